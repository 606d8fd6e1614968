#include "train/early_stopping.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

namespace petlab::train {

EarlyStopping::EarlyStopping(const EarlyStoppingOptions& options) : options_(options) {
  if (options.patience < 0) throw Error(fmt::format("patience: expected >= 0 evaluations, got {}", options.patience));
  if (!(options.min_delta >= 0))
    throw Error(fmt::format("early_stopping_threshold: expected >= 0, got {}", options.min_delta));
}

bool EarlyStopping::update(double value, int64_t step) {
  bool improved = false;
  if (!std::isnan(value)) {
    if (!has_best()) {
      improved = true;
    } else {
      const double gain = options_.goal == Goal::maximize ? value - best_ : best_ - value;
      improved = gain > options_.min_delta;
    }
  }
  if (improved) {
    best_ = value;
    best_step_ = step;
    evaluations_since_best_ = 0;
  } else {
    ++evaluations_since_best_;
  }
  return improved;
}

void BestState::capture(const ParameterTable& params) {
  at::NoGradGuard no_grad;
  saved_.clear();
  for (const auto& p : params.all())
    if (p.trainable() || p.owner == "head")
      saved_.push_back({p.name, p.tensor.detach().to(at::kCPU, /*non_blocking=*/false, /*copy=*/true)});
}

void BestState::restore(ParameterTable& params) const {
  if (saved_.empty()) throw Error("restore: no best state was captured (no evaluation improved)");
  at::NoGradGuard no_grad;
  for (const auto& s : saved_) {
    Parameter* p = params.find(s.name);
    if (p == nullptr) throw Error(fmt::format("restore: parameter '{}' is no longer in the model", s.name));
    if (p->tensor.sizes() != s.value.sizes())
      throw Error(fmt::format("restore: parameter '{}' changed shape from {} to {}", s.name, c10::str(s.value.sizes()),
                              c10::str(p->tensor.sizes())));
    p->tensor.copy_(s.value);
  }
}

int64_t BestState::elements() const {
  int64_t n = 0;
  for (const auto& s : saved_) n += s.value.numel();
  return n;
}

}  // namespace petlab::train
