// petlab: parameter-efficient tuning studies. Wires the subcommands; each lives in its own file.
#include "cli/commands.hpp"
#include "core/log.hpp"
#include "core/version.hpp"

#include <iostream>

int main(int argc, char** argv) {
  petlab::cli::GlobalOptions global;
  CLI::App app{"petlab " PETLAB_VERSION " - parameter-efficient tuning studies", "petlab"};
  app.set_version_flag("--version", PETLAB_VERSION);
  app.add_option("--log-level", global.log_level, "debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--plugin-path", global.plugin_paths,
                 "Directory of method plugins (repeatable; also PETLAB_PLUGIN_PATH, colon-separated)");
  app.require_subcommand(1);
  app.parse_complete_callback([&global] { petlab::log::set_level(global.log_level); });

  petlab::cli::add_methods_command(app, global);
  petlab::cli::add_forward_command(app, global);
  petlab::cli::add_plugins_command(app, global);
  petlab::cli::add_tasks_command(app, global);
  petlab::cli::add_data_command(app, global);
  petlab::cli::add_score_command(app, global);
  petlab::cli::add_study_command(app, global);

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
