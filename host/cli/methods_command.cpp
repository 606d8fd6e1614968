// `petlab methods [--json]`: every method on the plugin search path.
#include "cli/commands.hpp"
#include "cli/describe.hpp"
#include "plugin/registry.hpp"

#include <iostream>

namespace petlab::cli {

void add_methods_command(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand("methods", "List every loaded tuning method with its knobs");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print a JSON array instead of text");
  cmd->callback([&global, json] {
    MethodRegistry registry;
    registry.load_directories(plugin_search_path(global.plugin_paths));
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& m : registry.methods()) out.push_back(method_json(*m.desc, *m.library));
      std::cout << out.dump(2) << "\n";
      return;
    }
    if (registry.methods().empty()) std::cout << "no methods found (see --plugin-path)\n";
    for (const auto& m : registry.methods()) std::cout << method_text(*m.desc, *m.library) << "\n";
    for (const auto& f : registry.failures()) std::cout << "refused: " << f.reason << "\n";
  });
}

}  // namespace petlab::cli
