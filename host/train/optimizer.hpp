// AdamW over a model's trainable parameters in two groups, as HF's Trainer builds it: weight decay on
// weights, none on biases and normalisation parameters; gradient clipping and accumulation around it.
#pragma once

#include "model/parameters.hpp"

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace petlab::train {

struct OptimizerOptions {
  double learning_rate = 1e-3;  ///< initial rate; step() takes the scheduled one
  double weight_decay = 0.0;    ///< decoupled (AdamW) decay of the decay group
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double max_grad_norm = 1.0;      ///< global L2 clipping threshold; <= 0 turns clipping off
  int64_t accumulation_steps = 1;  ///< micro-batches whose gradients add up to one optimiser step
};

/// HF Trainer's rule, on petlab's tags: no decay for a parameter tagged `bias` or `norm`, or whose name
/// contains "bias" (T5's relative_attention_bias, method parameters named "...down.bias"). Everything else
/// decays, method vectors included (LoRA matrices, IA3 scales, prompts, prefixes), as the Trainer does for PEFT.
bool decays(const Parameter& parameter);

class Optimizer {
 public:
  /// AdamW over the parameters of `params` that are trainable now (mark them before), in table order.
  /// Throws petlab::Error naming the knob for a bad option, and when nothing is trainable.
  Optimizer(ParameterTable& params, const OptimizerOptions& options);
  ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Adds the gradients of loss / accumulation_steps. Returns true when this micro-batch completes an
  /// accumulation window: call step() then. (At the end of an epoch, step() may also close a partial window.)
  bool backward(const at::Tensor& loss);

  /// Clips the accumulated gradients to max_grad_norm, applies one AdamW update with learning rate `lr` to
  /// both groups and clears the gradients. Returns the global gradient norm before clipping. A NaN or
  /// infinite norm skips the update (the parameters stay finite) and is returned for the caller to mark
  /// the run diverged.
  double step(double lr);

  /// Clears gradients and the accumulation window (e.g. after an evaluation that computed gradients).
  void zero_grad();

  int64_t steps_taken() const { return steps_; }
  /// Micro-batches accumulated since the last step().
  int64_t pending_micro_batches() const { return pending_; }
  const OptimizerOptions& options() const { return options_; }

  /// Names of the parameters in each group (for the log and the tests).
  const std::vector<std::string>& decayed_names() const { return decayed_names_; }
  const std::vector<std::string>& not_decayed_names() const { return not_decayed_names_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  OptimizerOptions options_;
  std::vector<std::string> decayed_names_, not_decayed_names_;
  int64_t steps_ = 0, pending_ = 0;
};

}  // namespace petlab::train
