#include "train/optimizer.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <fmt/format.h>

#include <cmath>

namespace petlab::train {

bool decays(const Parameter& parameter) {
  return !parameter.has_tag("bias") && !parameter.has_tag("norm") && parameter.name.find("bias") == std::string::npos;
}

struct Optimizer::Impl {
  std::vector<at::Tensor> all;
  std::unique_ptr<torch::optim::AdamW> adamw;
};

namespace {

void check_options(const OptimizerOptions& o) {
  auto positive = [](const char* knob, double v) {
    if (!(v > 0) || !std::isfinite(v)) throw Error(fmt::format("{}: expected a positive number, got {}", knob, v));
  };
  positive("learning_rate", o.learning_rate);
  positive("adam_epsilon", o.eps);
  if (!(o.weight_decay >= 0)) throw Error(fmt::format("weight_decay: expected >= 0, got {}", o.weight_decay));
  for (auto [knob, beta] : {std::pair{"adam_beta1", o.beta1}, std::pair{"adam_beta2", o.beta2}})
    if (!(beta >= 0 && beta < 1)) throw Error(fmt::format("{}: expected a number in [0, 1), got {}", knob, beta));
  if (o.accumulation_steps < 1)
    throw Error(fmt::format("gradient_accumulation_steps: expected >= 1, got {}", o.accumulation_steps));
}

}  // namespace

Optimizer::Optimizer(ParameterTable& params, const OptimizerOptions& options)
    : impl_(std::make_unique<Impl>()), options_(options) {
  check_options(options);
  std::vector<torch::Tensor> decayed, not_decayed;
  for (const auto& p : params.all()) {
    if (!p.trainable()) continue;
    (decays(p) ? decayed : not_decayed).push_back(p.tensor);
    (decays(p) ? decayed_names_ : not_decayed_names_).push_back(p.name);
    impl_->all.push_back(p.tensor);
  }
  if (impl_->all.empty()) throw Error("the optimiser has nothing to train: no parameter is trainable");

  auto group_options = [&](double decay) {
    auto o = std::make_unique<torch::optim::AdamWOptions>(options.learning_rate);
    o->betas({options.beta1, options.beta2}).eps(options.eps).weight_decay(decay).amsgrad(false);
    return o;
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decayed.empty()) groups.emplace_back(decayed, group_options(options.weight_decay));
  if (!not_decayed.empty()) groups.emplace_back(not_decayed, group_options(0.0));
  impl_->adamw = std::make_unique<torch::optim::AdamW>(std::move(groups),
                                                       torch::optim::AdamWOptions(options.learning_rate));
}

Optimizer::~Optimizer() = default;

bool Optimizer::backward(const at::Tensor& loss) {
  const at::Tensor scaled = options_.accumulation_steps > 1 ? loss / static_cast<double>(options_.accumulation_steps) : loss;
  scaled.backward();
  ++pending_;
  return pending_ >= options_.accumulation_steps;
}

double Optimizer::step(double lr) {
  double norm;
  if (options_.max_grad_norm > 0) {
    norm = torch::nn::utils::clip_grad_norm_(impl_->all, options_.max_grad_norm);
  } else {
    // Still measured: the curve logs it and a non-finite one means divergence.
    std::vector<at::Tensor> norms;
    for (const auto& t : impl_->all)
      if (t.grad().defined()) norms.push_back(t.grad().detach().norm());
    norm = norms.empty() ? 0.0 : at::stack(norms).norm().item<double>();
  }
  if (std::isfinite(norm)) {
    for (auto& group : impl_->adamw->param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    impl_->adamw->step();
    ++steps_;
  }
  zero_grad();
  return norm;
}

void Optimizer::zero_grad() {
  impl_->adamw->zero_grad(/*set_to_none=*/true);
  pending_ = 0;
}

}  // namespace petlab::train
