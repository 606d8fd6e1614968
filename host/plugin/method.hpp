// One instance of a tuning method from a plugin, driven from the host side: statuses become exceptions
// that name the method and its file.
#pragma once

#include "model/surface.hpp"
#include "plugin/library.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace petlab {

/// Checks a knob object against a method's declared knobs: unknown names (listing the valid ones) and
/// values of the wrong type are petlab::Error.
void validate_knobs(const petlab_method_desc_t& desc, const nlohmann::json& config);

class MethodInstance {
 public:
  MethodInstance(std::shared_ptr<PluginLibrary> library, const petlab_method_desc_t* desc,
                 const nlohmann::json& config);
  ~MethodInstance();
  MethodInstance(const MethodInstance&) = delete;
  MethodInstance& operator=(const MethodInstance&) = delete;

  const std::string& id() const { return id_; }
  /// Creates the method's parameters and installs its hooks on `surface`.
  void attach(ModelSurface& surface);
  bool can_merge() const { return desc_->merge != nullptr && desc_->unmerge != nullptr; }
  void merge(ModelSurface& surface);
  void unmerge(ModelSurface& surface);

 private:
  using Call = petlab_status_t (*)(petlab_method_t*, petlab_model_t*, petlab_error_t*);
  void call(Call fn, const char* what, ModelSurface& surface);

  std::shared_ptr<PluginLibrary> library_;  // released after destroy(): the code must outlive the object
  const petlab_method_desc_t* desc_;
  std::string id_;
  petlab_method_t* method_ = nullptr;
};

}  // namespace petlab
