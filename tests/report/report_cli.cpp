// A test-only entry point: `report_cli study report DIR` runs petlab's report command through CLI11 the way
// the petlab binary does, without the rest of the host.
#include "cli/commands.hpp"

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"report command under test", "report_cli"};
  app.require_subcommand(1);
  auto* study = app.add_subcommand("study", "study commands");
  study->require_subcommand(1);
  petlab::cli::add_study_report_command(*study);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "petlab: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
