// A plugin file, opened with Boost.DLL and validated before anything in it runs beyond its loader.
#pragma once

#include <petlab/abi.h>

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace petlab {

/// The host's build id, computed from the same macros as a plugin's (see petlab/build_id.hpp).
const char* host_build_id();

class PluginLibrary : public std::enable_shared_from_this<PluginLibrary> {
 public:
  /// Loads and validates `file`; throws petlab::Error that says exactly why a file is refused (not a
  /// shared library, no petlab_entry, another ABI major, another build id, a malformed descriptor).
  static std::shared_ptr<PluginLibrary> load(const std::filesystem::path& file);

  const std::filesystem::path& file() const { return file_; }
  const petlab_entry_t& entry() const { return *entry_; }
  const std::vector<const petlab_method_desc_t*>& methods() const { return methods_; }
  /// The host services this library's methods receive; log lines are tagged with the file name.
  const petlab_host_t* host() const { return &host_; }

  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

 private:
  PluginLibrary() = default;
  void validate();

  std::filesystem::path file_;
  std::string display_name_;  // what log lines from this plugin are tagged with
  boost::dll::shared_library library_;
  const petlab_entry_t* entry_ = nullptr;
  std::vector<const petlab_method_desc_t*> methods_;
  petlab_host_t host_{};
  petlab_host_log_v1_t log_{};
};

}  // namespace petlab
