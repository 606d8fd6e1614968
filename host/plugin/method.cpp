#include "plugin/method.hpp"

#include "core/error.hpp"
#include "plugin/host_services.hpp"

#include <petlab/sdk.hpp>

#include <fmt/format.h>

namespace petlab {

void validate_knobs(const petlab_method_desc_t& desc, const nlohmann::json& config) {
  if (config.is_null()) return;
  if (!config.is_object()) throw Error(fmt::format("method '{}': knobs must be a table/object", desc.id));
  for (const auto& [name, value] : config.items()) {
    const petlab_knob_desc_t* knob = nullptr;
    for (uint32_t i = 0; i < desc.knob_count; ++i)
      if (name == desc.knobs[i].name) knob = &desc.knobs[i];
    if (knob == nullptr) {
      std::string valid;
      for (uint32_t i = 0; i < desc.knob_count; ++i) valid += (i ? ", " : "") + std::string(desc.knobs[i].name);
      throw Error(fmt::format("method '{}' has no knob '{}'; valid knobs: {}", desc.id, name,
                              valid.empty() ? "(none)" : valid));
    }
    if (!sdk::knob_value_fits(knob->type, value))
      throw Error(fmt::format("method '{}': knob '{}' expects {}, got {}", desc.id, name,
                              sdk::knob_type_name(knob->type), value.dump()));
  }
}

MethodInstance::MethodInstance(std::shared_ptr<PluginLibrary> library, const petlab_method_desc_t* desc,
                               const nlohmann::json& config)
    : library_(std::move(library)), desc_(desc), id_(desc->id) {
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
  ModelBinding binding{&surface, id_, library_};
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

void MethodInstance::unmerge(ModelSurface& surface) {
  if (!can_merge()) throw Error(fmt::format("method '{}' cannot unmerge", id_));
  call(desc_->unmerge, "unmerge", surface);
}

}  // namespace petlab
