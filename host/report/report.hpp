// `petlab study report DIR`: reads every run under a study folder and writes summary.csv, report.md and
// report.html into it (atomically; a rerun overwrites them).
#pragma once

#include "report/runs.hpp"

#include <filesystem>
#include <vector>

namespace petlab::report {

struct ReportOutcome {
  std::filesystem::path summary_csv, report_md, report_html;
  StudyRuns study;  ///< what was read: runs, pending folders, skipped files, warnings
};

/// Throws petlab::Error when `dir` is missing or holds no readable run ("no runs under DIR").
ReportOutcome write_report(const std::filesystem::path& dir);

/// Writes `text` to `file` through a temporary file in the same folder and a rename, so a reader (or a
/// crash) sees the old file or the new one, never half of one.
void write_file_atomically(const std::filesystem::path& file, const std::string& text);

}  // namespace petlab::report
