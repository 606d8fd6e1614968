// `petlab study report DIR`: summary.csv, report.md and report.html for a study folder (see report/report.hpp).
#include "cli/commands.hpp"

#include "report/markdown.hpp"
#include "report/report.hpp"

#include <iostream>
#include <memory>

namespace petlab::cli {

void add_study_report_command(CLI::App& study) {
  auto* cmd = study.add_subcommand(
      "report", "Aggregate a study folder into summary.csv, report.md and report.html (written into DIR)");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DIR", *dir,
                  "The study's output folder; shards merge by pointing at a folder that holds them all")
      ->required();
  cmd->callback([dir] {
    const auto outcome = report::write_report(*dir);
    const auto& study = outcome.study;
    // Unreadable files do not stop the report, but the user has to hear about them.
    for (const auto& p : study.skipped)
      std::cerr << "petlab: warning: skipped " << p.file.string() << ": " << p.message << "\n";
    for (const auto& p : study.warnings) std::cerr << "petlab: warning: " << p.file.string() << ": " << p.message << "\n";
    std::cout << report::run_counts(study) << "\nwrote " << outcome.summary_csv.string() << "\n      "
              << outcome.report_md.string() << "\n      " << outcome.report_html.string() << "\n";
  });
}

}  // namespace petlab::cli
