// `petlab plugins check FILE`: load one file and print its descriptor, or exactly why it is refused.
#include "cli/commands.hpp"
#include "cli/describe.hpp"
#include "core/error.hpp"
#include "plugin/library.hpp"

#include <fmt/format.h>

#include <iostream>

namespace petlab::cli {

void add_plugins_command(CLI::App& app, const GlobalOptions&) {
  auto* plugins = app.add_subcommand("plugins", "Inspect plugin files");
  plugins->require_subcommand(1);
  auto* check = plugins->add_subcommand("check", "Load one plugin file and print its descriptor or why it is refused");
  auto file = std::make_shared<std::string>();
  check->add_option("FILE", *file, "The plugin (.so) to check")->required();
  check->callback([file] {
    const auto lib = PluginLibrary::load(*file);  // throws with the reason; main prints it, exits 1
    const auto& e = lib->entry();
    std::cout << fmt::format("ok: {}\n  plugin  {} {}\n  abi     {}.{}\n  build   {}\n  methods {}\n\n",
                             lib->file().string(), e.plugin_name != nullptr ? e.plugin_name : "",
                             e.plugin_version != nullptr ? e.plugin_version : "", e.header.abi_major,
                             e.header.abi_minor, e.build_id, lib->methods().size());
    for (const auto* d : lib->methods()) std::cout << method_text(*d, *lib) << "\n";
  });
}

}  // namespace petlab::cli
