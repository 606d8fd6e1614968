// The real tokens of a right-padded batch gathered into rows [N, ...], so that token-wise work (linears, norms,
// the FFN, dropout) skips padding. Attention, which mixes tokens within a row, needs rows again: by length groups
// (attention_groups.hpp), or the padded layout, where unpack() scatters back into [B, T, ...] with zeros.
//
// Under random batching most of a GLUE batch is padding (the longest row sets the width), so this is where an
// encoder's time goes; with length-grouped batches the saving is smaller but still positive.
#pragma once

#include "model/sites.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>

namespace petlab {

class TokenPacking {
 public:
  /// From an attention mask [B, T] (nonzero = token). Inactive when nothing is padding or when not `enabled`:
  /// then pack() and unpack() return their input and every tensor keeps its [B, T, ...] shape.
  explicit TokenPacking(const at::Tensor& attention_mask, bool enabled = true);

  bool active() const { return index_.defined(); }
  /// Real tokens (N) when active, else B * T.
  int64_t tokens() const { return tokens_; }

  /// [B, T, ...] -> [N, ...]: the rows of real tokens in row-major order.
  at::Tensor pack(const at::Tensor& padded) const;
  /// [N, ...] -> [B, T, ...] with zeros at padding (differentiable; the gradient of padding is dropped).
  at::Tensor unpack(const at::Tensor& packed) const;

  /// Runs the hooks of a token-wise site (LINEAR, ACTIVATION) whose slots hold packed tensors. When a hook
  /// there needs the padded layout (a plugin older than ABI 1.2), the slots are unpacked for the call and the
  /// output slot (the last) is packed again after it.
  void run_site(const SiteRegistry& sites, SiteId site, std::span<at::Tensor* const> slots, bool training) const;

 private:
  at::Tensor index_;  // [N] int64 positions in the flattened [B * T]; undefined when inactive
  int64_t rows_ = 0, width_ = 0, tokens_ = 0;
};

}  // namespace petlab
