// Model selection on the dev set: track the best evaluation (a metric to maximise or a loss to minimise),
// stop after `patience` evaluations without improvement, and keep the best parameters in memory so the
// test set is evaluated once, with them.
#pragma once

#include "model/parameters.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace petlab::train {

enum class Goal { maximize, minimize };

struct EarlyStoppingOptions {
  Goal goal = Goal::maximize;  ///< maximize a dev metric, minimize the dev loss
  /// Evaluations in a row without improvement after which training stops; 0 = never stop early.
  int64_t patience = 0;
  /// An improvement must beat the best by more than this (HF's early_stopping_threshold).
  double min_delta = 0.0;
};

class EarlyStopping {
 public:
  /// Throws petlab::Error for a negative patience or min_delta.
  explicit EarlyStopping(const EarlyStoppingOptions& options);

  /// Records the evaluation after optimiser step `step`. Returns true when it is the new best (the first
  /// finite value always is; NaN never is). Ties keep the earlier best.
  bool update(double value, int64_t step);
  /// True once `patience` evaluations in a row have not improved (never with patience 0).
  bool should_stop() const { return options_.patience > 0 && evaluations_since_best_ >= options_.patience; }

  bool has_best() const { return best_step_ >= 0; }
  double best() const { return best_; }
  int64_t best_step() const { return best_step_; }
  int64_t evaluations_since_best() const { return evaluations_since_best_; }
  const EarlyStoppingOptions& options() const { return options_; }

 private:
  EarlyStoppingOptions options_;
  double best_ = std::numeric_limits<double>::quiet_NaN();
  int64_t best_step_ = -1;
  int64_t evaluations_since_best_ = 0;
};

/// A copy of the parameters that training changes: every trainable one and the task head (owner "head").
/// Copies live on the CPU, so a GPU run does not pay twice its trainable memory.
class BestState {
 public:
  /// Copies the current values of the selected parameters of `params` (replacing an earlier capture).
  void capture(const ParameterTable& params);
  /// Writes the captured values back into `params` in place (the tensors keep their identity, so an
  /// optimiser or hooks holding them see the restored values). Throws petlab::Error when nothing was
  /// captured or a captured parameter is missing or changed shape.
  void restore(ParameterTable& params) const;

  bool empty() const { return saved_.empty(); }
  /// Number of tensors and elements held.
  size_t tensors() const { return saved_.size(); }
  int64_t elements() const;

 private:
  struct Saved {
    std::string name;
    at::Tensor value;
  };
  std::vector<Saved> saved_;
};

}  // namespace petlab::train
