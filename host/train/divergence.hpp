// A run diverges when its loss (or gradient norm) stops being a finite number: the trainer ends it as
// `diverged`, keeps its curve, and the study goes on.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace petlab::train {

/// The first non-finite value seen, where and what it was.
struct Divergence {
  int64_t step = 0;     ///< optimiser step (or micro-batch) at which it happened
  std::string what;     ///< "loss" | "gradient norm"
  double value = 0.0;   ///< NaN, +inf or -inf

  /// "loss became nan at step 12", for the log and result.json.
  std::string message() const { return fmt::format("{} became {} at step {}", what, value, step); }
};

class DivergenceMonitor {
 public:
  /// Checks a training loss; returns false (and remembers the first occurrence) when it is NaN or infinite.
  bool check_loss(double loss, int64_t step) { return check(loss, step, "loss"); }
  /// Checks a gradient norm (Optimizer::step's result): overflowing gradients diverge a run even when the
  /// loss itself is still finite.
  bool check_grad_norm(double norm, int64_t step) { return check(norm, step, "gradient norm"); }

  bool diverged() const { return first_.has_value(); }
  /// The first non-finite value, when there was one.
  const std::optional<Divergence>& divergence() const { return first_; }

 private:
  bool check(double value, int64_t step, const char* what) {
    if (std::isfinite(value)) return true;
    if (!first_) first_ = Divergence{step, what, value};
    return false;
  }
  std::optional<Divergence> first_;
};

}  // namespace petlab::train
