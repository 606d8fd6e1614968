#include "backbone/attention.hpp"

#include "backbone/dropout.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace petlab {

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias, double p,
                     std::optional<double> scale) {
  if (p == 0.0 || !q.device().is_cpu())
    return at::scaled_dot_product_attention(q, k, v, bias, p, /*is_causal=*/false, scale);
  const double s = scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul_(s);
  if (bias.defined()) scores = scores + bias;
  return at::matmul(fast_dropout(at::softmax(scores, -1), p, /*training=*/true), v);
}

}  // namespace petlab
