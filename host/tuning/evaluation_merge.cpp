#include "tuning/evaluation_merge.hpp"

#include "core/log.hpp"
#include "tuning/tuned_model.hpp"

#include <ATen/ATen.h>

#include <exception>
#include <utility>

namespace petlab {

EvaluationMerge::EvaluationMerge(TunedModel& model) : model_(model) {
  const auto& methods = model.methods();
  available_ = !methods.empty();
  for (const auto& m : methods) available_ = available_ && m->can_merge();
}

void EvaluationMerge::merge() {
  at::NoGradGuard no_grad;
  if (learnt_) {
    originals_.clear();
    for (const at::Tensor& t : touched_) originals_.push_back(t.clone());
    model_.merge();
    return;
  }
  // First merge: copy every frozen floating-point tensor, then keep the copies of those the merge wrote.
  std::vector<at::Tensor> candidates, copies;
  std::vector<int64_t> versions;
  for (const Parameter& p : model_.backbone().surface().params.all()) {
    if (p.trainable() || !p.tensor.is_floating_point()) continue;
    candidates.push_back(p.tensor);
    copies.push_back(p.tensor.clone());
    versions.push_back(p.tensor._version());
  }
  model_.merge();
  for (size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i]._version() != versions[i]) {
      touched_.push_back(candidates[i]);
      originals_.push_back(copies[i]);
    }
  learnt_ = true;
  log::debug("evaluation merge: the methods fold into {} backbone tensors", touched_.size());
}

void EvaluationMerge::unmerge() {
  at::NoGradGuard no_grad;
  model_.unmerge();  // the methods' hooks take over again
  for (size_t i = 0; i < touched_.size(); ++i) touched_[i].copy_(originals_[i]);
  originals_.clear();
}

EvaluationMerge::Scope::Scope(EvaluationMerge& owner)
    : owner_(owner.available() && !owner.model_.merged() ? &owner : nullptr) {  // never undo a caller's merge
  if (owner_ != nullptr) owner_->merge();
}

void EvaluationMerge::Scope::close() {
  EvaluationMerge* owner = std::exchange(owner_, nullptr);
  if (owner != nullptr) owner->unmerge();
}

EvaluationMerge::Scope::~Scope() {
  try {
    close();
  } catch (const std::exception& e) {
    log::error("evaluation merge: could not unmerge after a failed evaluation: {}", e.what());
  }
}

}  // namespace petlab
