// Scaled dot-product attention for the backbones. Evaluation, and every device but the CPU, use
// at::scaled_dot_product_attention. CPU training with attention dropout computes the same thing
// explicitly, because SDPA's CPU path then falls back to at::dropout on the [B, heads, Tq, Tk]
// probabilities, the slowest op of a training step (see backbone/dropout.hpp).
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>

namespace petlab {

/// softmax(q kᵀ · scale + bias) v for q [B, heads, Tq, D], k and v [B, heads, Tk, D] and an additive bias
/// broadcastable to [B, heads, Tq, Tk]; scale defaults to 1 / sqrt(D). Dropout `p` on the probabilities.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias, double p,
                     std::optional<double> scale = std::nullopt);

}  // namespace petlab
