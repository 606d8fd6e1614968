#include "backbone/stacked_weights.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

namespace petlab {

at::Tensor StackedWeights::get(std::initializer_list<at::Tensor> parts) {
  bool trains = false;
  for (const at::Tensor& p : parts) trains = trains || p.requires_grad();
  // Inference tensors have no version counter and may not meet autograd later: never keep one.
  if ((trains && c10::GradMode::is_enabled()) || c10::InferenceMode::is_enabled()) {
    stacked_ = at::Tensor();
    return at::cat(std::vector<at::Tensor>(parts));
  }
  std::vector<std::pair<const void*, int64_t>> keys;
  for (const at::Tensor& p : parts) keys.emplace_back(p.const_data_ptr(), p._version());
  if (!stacked_.defined() || keys != keys_) {
    at::NoGradGuard no_grad;
    stacked_ = at::cat(std::vector<at::Tensor>(parts));
    keys_ = std::move(keys);
  }
  return stacked_;
}

}  // namespace petlab
