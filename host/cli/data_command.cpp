// `petlab data ...`: the task data commands (stats, fetch), one file each.
#include "cli/commands.hpp"

namespace petlab::cli {

void add_data_command(CLI::App& app, const GlobalOptions&) {
  auto* data = app.add_subcommand("data", "Task data: statistics and downloads");
  data->require_subcommand(1);
  add_data_stats_command(*data);
  add_data_fetch_command(*data);
}

}  // namespace petlab::cli
