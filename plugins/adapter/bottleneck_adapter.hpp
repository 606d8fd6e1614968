// Bottleneck adapters on BLOCK sites: creates each adapter's parameters (named "<site>.down.weight", ...) and
// installs the hook that rewrites the sublayer output h. Header-only, shared by the `adapter` and `mam` methods.
#pragma once

#include "adapter_spec.hpp"

#include <petlab/sdk.hpp>

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace petlab::methods {

/// One adapter's parameters, plus the backbone norm a Pfeiffer adapter reuses on post-norm backbones.
struct AdapterWeights {
  int64_t hidden = 0;
  at::Tensor down_weight, down_bias, up_weight, up_bias;
  at::Tensor scaling;  ///< [1] when learned, else undefined
  at::Tensor ln_before_weight, ln_before_bias, ln_after_weight, ln_after_bias;
  at::Tensor norm_weight, norm_bias;  ///< the site's post-sublayer norm; undefined on pre-norm backbones (T5)
  double norm_eps = 0.0;
};

/// f(z) of AdapterSpec: ln_after(scaling · up(act(down(ln_before(z))))).
inline at::Tensor adapter_bottleneck(const AdapterSpec& spec, const AdapterWeights& w, const at::Tensor& z) {
  constexpr double kAdapterNormEps = 1e-5;  // torch.nn.LayerNorm's default, as the adapters library builds them
  at::Tensor t = z;
  if (spec.ln_before) t = at::layer_norm(t, {w.hidden}, w.ln_before_weight, w.ln_before_bias, kAdapterNormEps);
  t = at::linear(t, w.down_weight, w.down_bias);
  t = spec.non_linearity == "relu" ? at::relu(t) : spec.non_linearity == "gelu" ? at::gelu(t) : at::silu(t);
  t = at::linear(t, w.up_weight, w.up_bias);
  if (spec.learned_scaling)
    t = t * w.scaling;
  else if (spec.scaling != 1.0)
    t = t * spec.scaling;
  if (spec.ln_after) t = at::layer_norm(t, {w.hidden}, w.ln_after_weight, w.ln_after_bias, kAdapterNormEps);
  return t;
}

/// The new sublayer output h' for input x and output h (see AdapterSpec for the three forms).
inline at::Tensor adapted_output(const AdapterSpec& spec, const AdapterWeights& w, const at::Tensor& x,
                                 const at::Tensor& h) {
  if (spec.parallel) return h + adapter_bottleneck(spec, w, x);
  if (!spec.original_norm_before) return h + adapter_bottleneck(spec, w, h);
  // Pfeiffer: the adapter reads the sublayer's residual sum after the backbone's own norm; the norm the host
  // applies after the site then sees x + h + f(...), as the adapters library computes LN(f + h + x).
  const at::Tensor sum = h + x;
  const at::Tensor input =
      w.norm_weight.defined() ? at::layer_norm(sum, {w.hidden}, w.norm_weight, w.norm_bias, w.norm_eps) : sum;
  return h + adapter_bottleneck(spec, w, input);
}

/// Draws `weight` [out, in] from a normal truncated to [-2·std, 2·std] (inverse-CDF sampling).
inline void truncated_normal_(at::Tensor& weight, double std) {
  const auto cdf = [](double v) { return 0.5 * (1.0 + std::erf(v / std::sqrt(2.0))); };
  weight.uniform_(2.0 * cdf(-2.0) - 1.0, 2.0 * cdf(2.0) - 1.0).erfinv_().mul_(std * std::sqrt(2.0));
  weight.clamp_(-2.0 * std, 2.0 * std);
}

/// Installs one adapter per site. Random draws come from torch's default generator (seeded by the host),
/// in site order, down before up.
class BottleneckAdapters {
 public:
  BottleneckAdapters(AdapterSpec spec, std::string method) : spec_(std::move(spec)), method_(std::move(method)) {}

  void attach(sdk::Model& model, const std::vector<sdk::Site>& sites) {
    for (const auto& site : sites)
      if (site.kind != PETLAB_SITE_BLOCK)
        throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT,
                         method_ + ": site '" + site.name +
                             "' is not a sublayer site; adapters go on *.attn.block, *.xattn.block or *.ffn.block");
    std::map<std::string, at::Tensor> backbone;
    bool placed = false;
    for (const auto& p : model.parameters()) {
      if (!placed && p.owner == "backbone") {  // adapters live where the backbone does
        options_ = options_.device(p.tensor.device());
        placed = true;
      }
      backbone.emplace(p.name, p.tensor);
    }
    for (const auto& site : sites) {
      model.claim(site.name, "adapter");
      auto weights = std::make_shared<const AdapterWeights>(create(model, site, backbone));
      model.add_hook(site.name, [spec = spec_, weights](sdk::HookCall& call) {
        at::Tensor& h = call.slot(1);
        h = adapted_output(spec, *weights, call.slot(0), h);
      });
    }
  }

 private:
  AdapterWeights create(sdk::Model& model, const sdk::Site& site, const std::map<std::string, at::Tensor>& backbone) {
    const int64_t H = site.in_features, b = spec_.width(H, method_);
    const std::string tags = site.stack + "," + group(site.name);
    AdapterWeights w;
    w.hidden = H;
    if (spec_.original_norm_before && !spec_.parallel) bind_backbone_norm(site, backbone, w);
    auto add = [&](const std::string& name, const at::Tensor& value, const std::string& kind) {
      return model.add_parameter(site.name + "." + name, value, tags + "," + kind, site.layer);
    };
    if (spec_.ln_before) {
      w.ln_before_weight = add("ln_before.weight", at::ones({H}, options_), "norm,weight");
      w.ln_before_bias = add("ln_before.bias", at::zeros({H}, options_), "norm,bias");
    }
    at::Tensor down = at::zeros({b, H}, options_), up = at::zeros({H, b}, options_);
    if (spec_.init == "bert") {  // BERT's initializer: N(0, 0.02) weights, zero biases
      down.normal_(0.0, 0.02);
      up.normal_(0.0, 0.02);
    } else if (spec_.init == "houlsby") {
      truncated_normal_(down, 0.01);
      truncated_normal_(up, 0.01);
    } else {  // lora / mam: kaiming-uniform(a=√5) down, zero up, so the adapter starts as the identity
      const double bound = 1.0 / std::sqrt(static_cast<double>(H));
      down.uniform_(-bound, bound);
    }
    w.down_weight = add("down.weight", down, "weight");
    w.down_bias = add("down.bias", at::zeros({b}, options_), "bias");
    w.up_weight = add("up.weight", up, "weight");
    w.up_bias = add("up.bias", at::zeros({H}, options_), "bias");
    if (spec_.learned_scaling) w.scaling = add("scaling", at::ones({1}, options_), "weight");
    if (spec_.ln_after) {
      w.ln_after_weight = add("ln_after.weight", at::ones({H}, options_), "norm,weight");
      w.ln_after_bias = add("ln_after.bias", at::zeros({H}, options_), "norm,bias");
    }
    return w;
  }

  /// Post-norm backbones (BERT) hand over their norm of x + h; pre-norm ones (T5) have none there.
  void bind_backbone_norm(const sdk::Site& site, const std::map<std::string, at::Tensor>& backbone,
                          AdapterWeights& w) const {
    if (site.norm_position == "pre") return;
    if (site.norm_position != "post" || site.norm_weight.empty())
      throw sdk::Error(PETLAB_ERR_UNSUPPORTED,
                       method_ + ": the pfeiffer form needs the backbone's own norm at '" + site.name +
                           "', which this host does not describe (norm_position '" + site.norm_position +
                           "'; ABI 1.1 or later gives it)");
    auto find = [&](const std::string& name) {
      auto it = backbone.find(name);
      if (it == backbone.end())
        throw sdk::Error(PETLAB_ERR_NOT_FOUND, method_ + ": the norm parameter '" + name + "' of site '" +
                                                   site.name + "' is not among the model's parameters");
      return it->second;
    };
    w.norm_weight = find(site.norm_weight);
    if (!site.norm_bias.empty()) w.norm_bias = find(site.norm_bias);
    w.norm_eps = site.norm_eps;
  }

  /// "attn", "xattn" or "ffn" from "enc.L3.ffn.block".
  static std::string group(const std::string& site) {
    const auto end = site.rfind('.');
    const auto start = site.rfind('.', end - 1);
    return site.substr(start + 1, end - start - 1);
  }

  AdapterSpec spec_;
  std::string method_;
  at::TensorOptions options_ = at::TensorOptions().dtype(at::kFloat);  ///< fp32 on the backbone's device
};

}  // namespace petlab::methods
