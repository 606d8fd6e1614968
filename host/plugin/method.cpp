#include "plugin/method.hpp"

#include "core/error.hpp"
#include "core/suggest.hpp"
#include "plugin/host_services.hpp"

#include <petlab/sdk.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstddef>

namespace petlab {

void validate_knobs(const petlab_method_desc_t& desc, const nlohmann::json& config) {
  if (config.is_null()) return;
  if (!config.is_object()) throw Error(fmt::format("method '{}': knobs must be a table/object", desc.id));
  for (const auto& [name, value] : config.items()) {
    const petlab_knob_desc_t* knob = nullptr;
    for (uint32_t i = 0; i < desc.knob_count; ++i)
      if (name == desc.knobs[i].name) knob = &desc.knobs[i];
    if (knob == nullptr) {
      std::vector<std::string> names;
      for (uint32_t i = 0; i < desc.knob_count; ++i) names.emplace_back(desc.knobs[i].name);
      throw Error(fmt::format("method '{}' has no knob '{}'{}; valid knobs: {}", desc.id, name,
                              did_you_mean(name, names), names.empty() ? "(none)" : fmt::format("{}", fmt::join(names, ", "))));
    }
    if (!sdk::knob_value_fits(knob->type, value))
      throw Error(fmt::format("method '{}': knob '{}' expects {}, got {}", desc.id, name,
                              sdk::knob_type_name(knob->type), value.dump()));
  }
}

MethodInstance::MethodInstance(std::shared_ptr<PluginLibrary> library, const petlab_method_desc_t* desc,
                               const nlohmann::json& config, std::string name)
    : library_(std::move(library)),
      desc_(desc),
      id_(desc->id),
      name_(name.empty() ? id_ : std::move(name)),
      version_(desc->version),
      knobs_(config.is_null() ? nlohmann::json::object() : config) {
  validate_knobs(*desc_, config);
  petlab_error_t error{};
  const std::string text = config.is_null() ? "{}" : config.dump();
  const petlab_status_t status = desc_->create(library_->host(), text.c_str(), &method_, &error);
  if (status != PETLAB_OK || method_ == nullptr)
    throw Error(fmt::format("method '{}' ({}) could not be created: {}", id_, library_->file().string(),
                            status != PETLAB_OK ? error.message : "create returned no instance"));
}

MethodInstance::~MethodInstance() {
  if (method_ != nullptr) desc_->destroy(method_);
}

void MethodInstance::call(Call fn, const char* what, ModelSurface& surface) {
  ModelBinding binding{&surface, name_, library_, desc_->header.abi_minor};
  petlab_error_t error{};
  if (fn(method_, binding.handle(), &error) != PETLAB_OK)
    throw Error(fmt::format("method '{}' ({}): {} failed: {}", id_, library_->file().filename().string(), what,
                            error.message));
}

void MethodInstance::attach(ModelSurface& surface) { call(desc_->attach, "attach", surface); }

void MethodInstance::merge(ModelSurface& surface) {
  if (!can_merge()) throw Error(fmt::format("method '{}' cannot merge into the backbone", id_));
  call(desc_->merge, "merge", surface);
}

nlohmann::json MethodInstance::fold(ModelSurface& surface) {
  const bool offered = desc_->header.struct_size > offsetof(petlab_method_desc_t, fold) && desc_->fold != nullptr;
  if (!offered) return nlohmann::json::object();  // a 1.0 plugin has nothing to fold
  std::string overrides(64 * 1024, '\0');
  ModelBinding binding{&surface, name_, library_, desc_->header.abi_minor};
  petlab_error_t error{};
  if (desc_->fold(method_, binding.handle(), overrides.data(), overrides.size(), &error) != PETLAB_OK)
    throw Error(fmt::format("method '{}' ({}): fold failed: {}", name_, library_->file().filename().string(),
                            error.message));
  auto parsed = nlohmann::json::parse(overrides.c_str(), nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object())
    throw Error(fmt::format("method '{}': fold returned knob overrides that are not a JSON object", name_));
  return parsed;
}

void MethodInstance::unmerge(ModelSurface& surface) {
  if (!can_merge()) throw Error(fmt::format("method '{}' cannot unmerge", id_));
  call(desc_->unmerge, "unmerge", surface);
}

}  // namespace petlab
