// report.md: per task (and train size / protocol), a table of methods with test mean ± std over seeds,
// seed counts, trainable % and Welch's t-test against full tuning; then fair vs legacy, pending cells,
// failed runs and skipped files.
#pragma once

#include "report/groups.hpp"
#include "report/runs.hpp"

#include <string>
#include <vector>

namespace petlab::report {

std::string report_markdown(const StudyRuns& study, const std::vector<Group>& groups);

/// A path under the study folder as the report shows it: relative to the folder when inside it.
std::string shown_path(const StudyRuns& study, const std::filesystem::path& path);

/// "4 runs (3 finished, 1 diverged), 1 pending, 2 result file(s) skipped" (the parts that are not zero).
std::string run_counts(const StudyRuns& study);

/// The study names found (several when folders of different studies were merged), comma-separated.
std::string study_names(const StudyRuns& study);

}  // namespace petlab::report
