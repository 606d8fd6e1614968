#include "model/parameters.hpp"

#include "core/error.hpp"

#include <petlab/sdk.hpp>

namespace petlab {

bool Parameter::has_tag(const std::string& tag) const { return sdk::tag_list_contains(tags, tag); }

Parameter& ParameterTable::add(Parameter parameter) {
  if (by_name_.count(parameter.name) != 0) throw Error("parameter '" + parameter.name + "' already exists");
  if (!parameter.tensor.defined()) throw Error("parameter '" + parameter.name + "' has no tensor");
  by_name_.emplace(parameter.name, params_.size());
  params_.push_back(std::move(parameter));
  return params_.back();
}

Parameter* ParameterTable::find(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &params_[it->second];
}

void ParameterTable::freeze_all() {
  for (auto& p : params_) p.tensor.requires_grad_(false);
}

int64_t ParameterTable::count_elements(bool trainable_only) const {
  int64_t n = 0;
  for (const auto& p : params_)
    if (!trainable_only || p.trainable()) n += p.tensor.numel();
  return n;
}

}  // namespace petlab
