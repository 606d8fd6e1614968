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
  /// `name` labels the instance in parameter names ("<name>/...") and messages; empty means the method id.
  MethodInstance(std::shared_ptr<PluginLibrary> library, const petlab_method_desc_t* desc,
                 const nlohmann::json& config, std::string name = {});
  ~MethodInstance();
  MethodInstance(const MethodInstance&) = delete;
  MethodInstance& operator=(const MethodInstance&) = delete;

  const std::string& id() const { return id_; }
  /// The instance's label: the method id, or "<id>.2", "<id>.3"... when one run attaches a method twice.
  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const nlohmann::json& knobs() const { return knobs_; }
  /// Creates the method's parameters and installs its hooks on `surface`.
  void attach(ModelSurface& surface);
  bool can_merge() const { return desc_->merge != nullptr && desc_->unmerge != nullptr; }
  void merge(ModelSurface& surface);
  void unmerge(ModelSurface& surface);
  /// Folds training-time reparameterisations into plain parameters (before saving); returns the knob
  /// overrides under which a fresh attach creates exactly the parameters to save.
  nlohmann::json fold(ModelSurface& surface);

 private:
  using Call = petlab_status_t (*)(petlab_method_t*, petlab_model_t*, petlab_error_t*);
  void call(Call fn, const char* what, ModelSurface& surface);

  std::shared_ptr<PluginLibrary> library_;  // released after destroy(): the code must outlive the object
  const petlab_method_desc_t* desc_;
  std::string id_, name_, version_;
  nlohmann::json knobs_;
  petlab_method_t* method_ = nullptr;
};

}  // namespace petlab
