// Prefix tuning (Li & Liang 2021) as a reusable part: learned keys and values prepended at attention sites
// (`*.attn.kv`, `dec.L*.xattn.kv`). The prefix plugin and MAM (He et al. 2022) both build on this class.
//
// Two forms, named as the save/load and PEFT converters expect ("<instance>/" is added by the host):
//  - plain (reparameterize = false): "<site>.key" and "<site>.value", each [length, heads*head_dim];
//  - reparameterised, as PEFT's prefix_projection (all tagged `transient`, never saved): "embedding"
//    [length, hidden] -> "mlp.0" Linear(hidden, mid_dim) -> tanh -> "mlp.2" Linear(mid_dim, sites*2*width),
//    whose output row p holds, site after site, the key then the value of prefix position p. fold() writes
//    that output into the plain parameters, so a save is the plain form.
#pragma once

#include <petlab/sdk.hpp>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace petlab::methods {

struct PrefixOptions {
  int64_t length = 30;         ///< prefix positions per attention site
  bool reparameterize = true;  ///< train through the MLP (PEFT's prefix_projection) instead of the plain prefixes
  int64_t mid_dim = 512;       ///< the MLP's hidden width
  double dropout = 0.0;        ///< dropout on the prefix keys/values while training

  /// Throws naming the knob (`method` prefixes the message) when a value is out of range.
  void validate(const std::string& method) const {
    using sdk::Error;
    if (length <= 0)
      throw Error(PETLAB_ERR_INVALID_ARGUMENT, method + ": length = " + std::to_string(length) +
                                                   "; expected a positive number of prefix positions");
    if (reparameterize && mid_dim <= 0)
      throw Error(PETLAB_ERR_INVALID_ARGUMENT,
                  method + ": mid_dim = " + std::to_string(mid_dim) + "; expected a positive MLP width");
    if (!(dropout >= 0.0 && dropout < 1.0))
      throw Error(PETLAB_ERR_INVALID_ARGUMENT,
                  method + ": dropout = " + std::to_string(dropout) + "; expected a probability in [0, 1)");
  }
};

class PrefixTuning {
 public:
  explicit PrefixTuning(PrefixOptions options, std::string method = "prefix")
      : options_(options), method_(std::move(method)) {
    options_.validate(method_);
  }

  /// Keeps the attention sites of `sites` (an error naming the targets' sites when there is none), creates the
  /// parameters in a fixed order from torch's default generator (PEFT's distributions: N(0, 1) prefixes and
  /// embedding, nn.Linear's uniform(+-1/sqrt(fan_in))), claims (site, "prefix") and installs the hooks.
  void attach(sdk::Model& model, const std::vector<sdk::Site>& sites) {
    state_->sites.clear();
    std::string others;
    for (const auto& s : sites) {
      if (s.kind == PETLAB_SITE_ATTENTION)
        state_->sites.push_back(s);
      else if (others.size() < 200)
        others += (others.empty() ? "" : ", ") + s.name;
    }
    if (state_->sites.empty())
      throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT,
                       method_ + ": none of the chosen sites is an attention site (`*.attn.kv`, `dec.L*.xattn.kv`)" +
                           (others.empty() ? std::string(" and the model has none") : "; chosen: " + others) +
                           ". Prefix tuning needs attention sites: set targets to e.g. [\"attn.kv\"]");
    // Claims first: a conflict with another method is reported as such, before anything is created.
    for (const auto& s : state_->sites) model.claim(s.name, "prefix");
    const at::TensorOptions opts = at::TensorOptions().dtype(at::kFloat).device(model_device(model));
    const int64_t P = options_.length;
    int64_t total = 0;
    for (const auto& s : state_->sites) total += 2 * width(s);
    state_->offsets.clear();

    if (options_.reparameterize) {
      const int64_t H = hidden_size(model), M = options_.mid_dim;
      auto uniform = [&](std::vector<int64_t> shape, int64_t fan_in) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
        return at::empty(shape, opts).uniform_(-bound, bound);
      };
      // Drawn in this order: embedding, mlp.0 weight and bias, mlp.2 weight and bias.
      at::Tensor embedding = at::randn({P, H}, opts);
      at::Tensor w0 = uniform({M, H}, H), b0 = uniform({M}, H);
      at::Tensor w2 = uniform({total, M}, M), b2 = uniform({total}, M);
      state_->embedding = model.add_parameter("embedding", embedding, "transient,prefix");
      state_->w0 = model.add_parameter("mlp.0.weight", w0, "transient,prefix");
      state_->b0 = model.add_parameter("mlp.0.bias", b0, "transient,prefix");
      state_->w2 = model.add_parameter("mlp.2.weight", w2, "transient,prefix");
      state_->b2 = model.add_parameter("mlp.2.bias", b2, "transient,prefix");
    }
    int64_t offset = 0;
    for (const auto& s : state_->sites) {
      state_->offsets.push_back(offset);
      offset += 2 * width(s);
      if (!options_.reparameterize) {
        at::Tensor key = at::randn({P, width(s)}, opts), value = at::randn({P, width(s)}, opts);
        state_->keys.push_back(model.add_parameter(s.name + ".key", key, "prefix", s.layer));
        state_->values.push_back(model.add_parameter(s.name + ".value", value, "prefix", s.layer));
      }
    }
    for (size_t i = 0; i < state_->sites.size(); ++i) install_hook(model, i);
  }

  /// Reparameterised: writes the MLP's current output into plain "<site>.key"/".value" parameters (created,
  /// frozen, on the first call; overwritten in place later) and returns {"reparameterize": false}, the knob a
  /// fresh attach needs to read them. Plain form: nothing to fold, returns {}.
  nlohmann::json fold(sdk::Model& model) {
    if (!options_.reparameterize) return nlohmann::json::object();
    at::NoGradGuard no_grad;
    const at::Tensor all = state_->project();
    const bool first = state_->folded_keys.empty();
    for (size_t i = 0; i < state_->sites.size(); ++i) {
      const sdk::Site& s = state_->sites[i];
      const at::Tensor key = all.narrow(1, state_->offsets[i], width(s));
      const at::Tensor value = all.narrow(1, state_->offsets[i] + width(s), width(s));
      if (first) {
        state_->folded_keys.push_back(model.add_parameter(s.name + ".key", key.clone(), "prefix", s.layer));
        state_->folded_values.push_back(model.add_parameter(s.name + ".value", value.clone(), "prefix", s.layer));
        state_->folded_keys.back().requires_grad_(false);
        state_->folded_values.back().requires_grad_(false);
      } else {
        state_->folded_keys[i].copy_(key);
        state_->folded_values[i].copy_(value);
      }
    }
    return {{"reparameterize", false}};
  }

  const std::vector<sdk::Site>& sites() const { return state_->sites; }
  const PrefixOptions& options() const { return options_; }

  /// heads * head_dim of an attention site: the width of its keys and values.
  static int64_t width(const sdk::Site& s) { return s.num_heads * s.head_dim; }

 private:
  /// What the hooks read; shared with them so the class itself may move.
  struct State {
    std::vector<sdk::Site> sites;
    std::vector<int64_t> offsets;                      // column of each site's key in the MLP output
    std::vector<at::Tensor> keys, values;              // plain form
    at::Tensor embedding, w0, b0, w2, b2;              // reparameterised form
    std::vector<at::Tensor> folded_keys, folded_values;

    /// The MLP's output [length, sites*2*width] (reparameterised form).
    at::Tensor project() const { return at::linear(at::tanh(at::linear(embedding, w0, b0)), w2, b2); }
    /// One site's key and value [length, width]; the reparameterised form projects only that site's columns.
    std::pair<at::Tensor, at::Tensor> prefix(size_t i, int64_t width) const {
      if (keys.size() > i) return {keys[i], values[i]};
      const at::Tensor hidden = at::tanh(at::linear(embedding, w0, b0));
      const at::Tensor kv =
          at::linear(hidden, w2.narrow(0, offsets[i], 2 * width), b2.narrow(0, offsets[i], 2 * width));
      return {kv.narrow(1, 0, width), kv.narrow(1, width, width)};
    }
  };

  void install_hook(sdk::Model& model, size_t i) {
    const sdk::Site& s = state_->sites[i];
    const int64_t heads = s.num_heads, head_dim = s.head_dim, W = width(s), P = options_.length;
    const double dropout = options_.dropout;
    std::shared_ptr<const State> state = state_;
    model.add_hook(s.name, [state, i, heads, head_dim, W, P, dropout](sdk::HookCall& call) {
      at::Tensor& keys = call.slot(0);
      at::Tensor& values = call.slot(1);
      at::Tensor& bias = call.slot(2);
      const auto [key, value] = state->prefix(i, W);
      const int64_t B = keys.size(0);
      const bool drop = call.training() && dropout > 0;
      // [P, heads*D] -> [B, heads, P, D]: PEFT's view of a prefix row as (heads, head_dim); dropout per example.
      auto batched = [&](const at::Tensor& t) {
        at::Tensor b = t.to(keys.scalar_type()).view({P, heads, head_dim}).permute({1, 0, 2}).unsqueeze(0).expand(
            {B, heads, P, head_dim});
        return drop ? at::dropout(b, dropout, true) : b;
      };
      keys = at::cat({batched(key), keys}, 2);
      values = at::cat({batched(value), values}, 2);
      // Every query sees every prefix position: zeros in the additive bias.
      if (bias.defined()) bias = at::constant_pad_nd(bias, {P, 0});
    });
  }

  static c10::Device model_device(sdk::Model& model) {
    for (const auto& p : model.parameters())
      if (p.owner == "backbone") return p.tensor.device();
    return c10::Device(c10::kCPU);
  }

  /// The width of the reparameterisation's embedding: the model's hidden size (the `embed` site's width).
  static int64_t hidden_size(sdk::Model& model) {
    for (const auto& s : model.sites())
      if (s.kind == PETLAB_SITE_EMBED) return s.out_features;
    throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT, "prefix: the model has no `embed` site to size the embedding");
  }

  PrefixOptions options_;
  std::string method_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace petlab::methods
