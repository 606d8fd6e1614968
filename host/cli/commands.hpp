// Subcommands of the petlab CLI. Each file adds one command to the app; main.cpp wires them up.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace petlab::cli {

/// Options every subcommand may read.
struct GlobalOptions {
  std::string log_level = "warn";
  std::vector<std::string> plugin_paths;
};

void add_methods_command(CLI::App& app, const GlobalOptions& global);
void add_forward_command(CLI::App& app, const GlobalOptions& global);
void add_plugins_command(CLI::App& app, const GlobalOptions& global);
void add_tasks_command(CLI::App& app, const GlobalOptions& global);
void add_score_command(CLI::App& app, const GlobalOptions& global);
/// `data` with its subcommands `stats` and `fetch`.
void add_data_command(CLI::App& app, const GlobalOptions& global);
void add_data_stats_command(CLI::App& data);
void add_data_fetch_command(CLI::App& data);
/// `study report DIR`, added to the `study` command group.
void add_study_report_command(CLI::App& study);
/// `study` with its subcommands plan, run and report.
void add_study_command(CLI::App& app, const GlobalOptions& global);

}  // namespace petlab::cli
