#include "report/report.hpp"

#include "core/error.hpp"
#include "report/groups.hpp"
#include "report/html.hpp"
#include "report/markdown.hpp"
#include "report/summary_csv.hpp"

#include <fstream>
#include <unistd.h>

namespace petlab::report {

namespace fs = std::filesystem;

void write_file_atomically(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.parent_path() / ("." + file.filename().string() + ".tmp-" + std::to_string(getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw Error("cannot write " + file.string() + " (through " + tmp.string() + ")");
    }
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot replace " + file.string() + ": " + ec.message());
  }
}

ReportOutcome write_report(const fs::path& dir) {
  ReportOutcome outcome;
  outcome.study = collect_runs(dir);
  const StudyRuns& study = outcome.study;
  if (study.runs.empty()) {
    std::string detail;
    if (!study.pending.empty()) detail += "; " + std::to_string(study.pending.size()) + " run(s) pending";
    for (const Problem& p : study.skipped) detail += "; skipped " + p.file.string() + ": " + p.message;
    throw Error("no runs under " + dir.string() + " (no <cell>/seed-<k>/result.json" +
                (study.skipped.empty() ? std::string(" found") : std::string(" readable")) + ")" + detail);
  }
  const auto groups = group_runs(study.runs);
  outcome.summary_csv = dir / "summary.csv";
  outcome.report_md = dir / "report.md";
  outcome.report_html = dir / "report.html";
  write_file_atomically(outcome.summary_csv, summary_csv(study.runs));
  write_file_atomically(outcome.report_md, report_markdown(study, groups));
  write_file_atomically(outcome.report_html, report_html(study, groups));
  return outcome;
}

}  // namespace petlab::report
