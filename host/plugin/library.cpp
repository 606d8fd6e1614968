#include "plugin/library.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "plugin/elf_check.hpp"
#include "plugin/host_services.hpp"

#include <petlab/build_id.hpp>

#include <fmt/format.h>

#include <boost/system/system_error.hpp>

#include <cstddef>
#include <set>

namespace petlab {
namespace {

// The fields a 1.0 reader needs; a struct shorter than this cannot be a valid v1 struct.
constexpr uint32_t kEntryV1Size = offsetof(petlab_entry_t, method_at) + sizeof(void*);
constexpr uint32_t kMethodV1Size = offsetof(petlab_method_desc_t, destroy) + sizeof(void*);
constexpr uint32_t kKnobV1Size = offsetof(petlab_knob_desc_t, help) + sizeof(void*);

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

void plugin_log(void* host_data, petlab_log_level_t level, const char* message) {
  const auto* file = static_cast<const std::string*>(host_data);
  const auto lvl = level <= PETLAB_LOG_DEBUG  ? log::Level::debug
                   : level == PETLAB_LOG_INFO ? log::Level::info
                   : level == PETLAB_LOG_WARN ? log::Level::warn
                                              : log::Level::error;
  if (log::enabled(lvl)) log::write(lvl, fmt::format("[{}] {}", *file, message != nullptr ? message : ""));
}

}  // namespace

const char* host_build_id() { return PETLAB_BUILD_ID; }

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error(fmt::format("plugin {}: no such file", quoted(file)));

  check_elf_shared_object(file);

  std::shared_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->file_ = std::filesystem::absolute(file, ec);
  try {
    lib->library_.load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const boost::system::system_error& e) {
    throw Error(fmt::format("plugin {} cannot be loaded as a shared library: {}", quoted(file), e.what()));
  }
  if (!lib->library_.has(PETLAB_ENTRY_SYMBOL))
    throw Error(fmt::format("plugin {} exports no '{}' symbol: it is not a petlab method plugin (build it with "
                            "petlab_add_method and PETLAB_PLUGIN)",
                            quoted(file), PETLAB_ENTRY_SYMBOL));
  lib->entry_ = &lib->library_.get<const petlab_entry_t>(PETLAB_ENTRY_SYMBOL);
  lib->validate();
  return lib;
}

void PluginLibrary::validate() {
  const auto& h = entry_->header;
  if (h.abi_major != PETLAB_ABI_MAJOR)
    throw Error(fmt::format("plugin {} was built for petlab plugin ABI {}.{}, but this host speaks ABI {}.{}; "
                            "major versions must match: rebuild the plugin against this petlab",
                            quoted(file_), h.abi_major, h.abi_minor, PETLAB_ABI_MAJOR, PETLAB_ABI_MINOR));
  if (h.struct_size < kEntryV1Size)
    throw Error(fmt::format("plugin {}: petlab_entry is {} bytes, an ABI {}.x entry needs at least {}",
                            quoted(file_), h.struct_size, PETLAB_ABI_MAJOR, kEntryV1Size));
  if (entry_->build_id == nullptr || std::string(entry_->build_id) != host_build_id())
    throw Error(fmt::format("plugin {} was built against '{}', but this host against '{}'; tensors cross the "
                            "boundary as LibTorch objects, so rebuild the plugin with the host's LibTorch and "
                            "compiler",
                            quoted(file_), entry_->build_id != nullptr ? entry_->build_id : "(none)",
                            host_build_id()));
  if (entry_->method_count == nullptr || entry_->method_at == nullptr)
    throw Error(fmt::format("plugin {}: petlab_entry lacks method_count/method_at", quoted(file_)));

  std::set<std::string> ids;
  const uint32_t n = entry_->method_count();
  for (uint32_t i = 0; i < n; ++i) {
    const petlab_method_desc_t* d = entry_->method_at(i);
    if (d == nullptr)
      throw Error(fmt::format("plugin {}: method descriptor {} could not be built", quoted(file_), i));
    if (d->header.abi_major != PETLAB_ABI_MAJOR || d->header.struct_size < kMethodV1Size)
      throw Error(fmt::format("plugin {}: method descriptor {} has ABI {}.{} and {} bytes; expected ABI {}.x "
                              "and at least {} bytes",
                              quoted(file_), i, d->header.abi_major, d->header.abi_minor, d->header.struct_size,
                              PETLAB_ABI_MAJOR, kMethodV1Size));
    if (d->id == nullptr || *d->id == '\0')
      throw Error(fmt::format("plugin {}: method descriptor {} has no id", quoted(file_), i));
    if (d->create == nullptr || d->attach == nullptr || d->destroy == nullptr)
      throw Error(fmt::format("plugin {}: method '{}' lacks create/attach/destroy", quoted(file_), d->id));
    if (!ids.insert(d->id).second)
      throw Error(fmt::format("plugin {} carries method '{}' twice", quoted(file_), d->id));
    for (uint32_t k = 0; k < d->knob_count; ++k) {
      const auto& knob = d->knobs[k];
      if (knob.header.struct_size < kKnobV1Size || knob.name == nullptr || knob.default_json == nullptr)
        throw Error(fmt::format("plugin {}: method '{}' knob {} is malformed", quoted(file_), d->id, k));
    }
    methods_.push_back(d);
  }

  display_name_ = file_.filename().string();
  log_ = {PETLAB_HEADER_INIT(petlab_host_log_v1_t), &plugin_log, &display_name_};
  host_ = make_host_services(&log_);
}

}  // namespace petlab
