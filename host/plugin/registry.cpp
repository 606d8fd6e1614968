#include "plugin/registry.hpp"

#include "core/error.hpp"
#include "core/suggest.hpp"
#include "core/log.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace petlab {

void MethodRegistry::load_directories(const std::vector<std::filesystem::path>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      log::debug("plugin directory '{}' does not exist; skipped", dir.string());
      continue;
    }
    // The same folder named twice (--plugin-path build/lib/petlab/plugins and the default next to the
    // binary) is one folder: its files do not compete with themselves.
    if (!loaded_dirs_.insert(std::filesystem::canonical(dir, ec).string()).second) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".so") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        load_file(f);
      } catch (const Error& e) {
        log::warn("{}", e.what());
        failures_.push_back({f, e.what()});
      }
    }
  }
}

void MethodRegistry::load_file(const std::filesystem::path& file) {
  auto lib = PluginLibrary::load(file);
  for (const auto* desc : lib->methods()) {
    if (const MethodEntry* seen = find(desc->id)) {
      log::warn("method '{}' is provided by both '{}' and '{}'; using the first (earlier plugin paths take "
                   "precedence)",
                   desc->id, seen->library->file().string(), lib->file().string());
      continue;
    }
    methods_.push_back({desc, lib});
  }
}

const MethodEntry* MethodRegistry::find(const std::string& id) const {
  for (const auto& m : methods_)
    if (id == m.desc->id) return &m;
  return nullptr;
}

std::unique_ptr<MethodInstance> MethodRegistry::create(const std::string& id, const nlohmann::json& config,
                                                       const std::string& name) const {
  const MethodEntry* entry = find(id);
  if (entry == nullptr) {
    std::vector<std::string> known;
    for (const auto& m : methods_) known.emplace_back(m.desc->id);
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw Error(fmt::format("unknown method '{}'{}; loaded methods: {}", id, did_you_mean(id, known),
                            list.empty() ? "(none)" : list));
  }
  return std::make_unique<MethodInstance>(entry->library, entry->desc, config, name);
}

std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::string>& explicit_dirs) {
  std::vector<std::filesystem::path> dirs(explicit_dirs.begin(), explicit_dirs.end());
  if (const char* env = std::getenv("PETLAB_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) dirs.emplace_back(item);
  }
  const auto exe_dir = std::filesystem::path(boost::dll::program_location().parent_path().string());
  dirs.push_back(exe_dir.parent_path() / "lib" / "petlab" / "plugins");
  return dirs;
}

}  // namespace petlab
