// Dropout that costs little on the CPU. at::dropout draws its mask element by element from the CPU
// generator; on a 2-core machine that made dropout (hidden states and attention probabilities) the
// largest single cost of a training step, more than the matmuls of a small encoder. Here the mask comes
// from a counter-based hash seeded once per call from torch's default generator (so at::manual_seed still
// fixes every mask), drawn and applied in one parallel pass (backbone/dropout_kernels.hpp), and kept as
// bytes for the backward.
// Other devices use at::dropout, which is fast there.
#pragma once

#include <ATen/core/Tensor.h>

namespace petlab {

/// Zeroes each element with probability `p` and scales the rest by 1 / (1 - p) when `training`; else
/// returns `x`. Differentiable in `x`. p must be in [0, 1].
at::Tensor fast_dropout(const at::Tensor& x, double p, bool training);

}  // namespace petlab
