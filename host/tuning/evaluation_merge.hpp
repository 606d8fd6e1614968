// Folds a run's mergeable methods (LoRA, (IA)³) into the backbone weights for an evaluation, so the
// evaluation runs the plain backbone with no hooks, then gives the weights back bit for bit.
//
// Unmerging by arithmetic (W + ΔW − ΔW, or W · s / s) is off by a rounding each time, and a run evaluates
// often: over many evaluations the frozen backbone would drift. So the weights a merge touches are copied
// before each merge and copied back after the unmerge. Which weights those are is learnt from the first
// merge (LibTorch counts in-place writes per tensor); that first time everything frozen is copied once.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <vector>

namespace petlab {

class TunedModel;

class EvaluationMerge {
 public:
  explicit EvaluationMerge(TunedModel& model);

  /// True when the model has methods and all of them can merge.
  bool available() const { return available_; }

  /// Merges (when available and the model is not merged already); the weights return exactly as they were
  /// when the scope ends.
  class Scope {
   public:
    explicit Scope(EvaluationMerge& owner);
    /// Unmerges and restores the weights now; throws petlab::Error when a method cannot unmerge.
    void close();
    /// Closes a scope left open (an exception is on its way), logging instead of throwing.
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    EvaluationMerge* owner_;  // null when nothing was merged
  };

 private:
  void merge();
  void unmerge();

  TunedModel& model_;
  bool available_ = false;
  bool learnt_ = false;                 // the set of touched weights is known
  std::vector<at::Tensor> touched_;     // weights a merge writes to
  std::vector<at::Tensor> originals_;   // their values before the current merge
};

}  // namespace petlab
