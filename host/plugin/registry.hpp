// Every method the host can use, filled once from the plugin search path (no static-initialiser magic).
#pragma once

#include "plugin/library.hpp"
#include "plugin/method.hpp"

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace petlab {

struct MethodEntry {
  const petlab_method_desc_t* desc;
  std::shared_ptr<PluginLibrary> library;
};

struct LoadFailure {
  std::filesystem::path file;
  std::string reason;
};

class MethodRegistry {
 public:
  /// Loads every `*.so` in each directory (sorted by name). Files that fail are recorded in failures()
  /// and logged; they do not stop the others. When two files carry the same method id the first one
  /// found wins — earlier directories take precedence — with a warning naming both files.
  void load_directories(const std::vector<std::filesystem::path>& dirs);
  /// Loads one file; throws petlab::Error with the reason it is refused.
  void load_file(const std::filesystem::path& file);

  const MethodEntry* find(const std::string& id) const;
  const std::vector<MethodEntry>& methods() const { return methods_; }
  const std::vector<LoadFailure>& failures() const { return failures_; }

  /// Creates an instance labelled `name` (default: the id); an unknown id lists the methods that are available.
  std::unique_ptr<MethodInstance> create(const std::string& id, const nlohmann::json& config,
                                         const std::string& name = {}) const;

 private:
  std::vector<MethodEntry> methods_;
  std::vector<LoadFailure> failures_;
  std::set<std::string> loaded_dirs_;
};

/// The directories searched for plugins, in precedence order: the given ones (--plugin-path), then
/// PETLAB_PLUGIN_PATH (colon-separated), then lib/petlab/plugins next to the running binary.
std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::string>& explicit_dirs);

}  // namespace petlab
