// (IA)^3 (Liu et al.): learned vectors rescale hidden states elementwise. On a linear site the output is scaled,
// y ⊙ l (keys and values); on the FFN activation site the activation is, a ⊙ l, which is the input of the FFN
// output projection. Vectors start at ones, so attaching changes nothing. Mergeable: a linear site's scale goes
// into the rows of its weight (and its bias), the activation's into the input columns of the projection that
// consumes it.
#include <petlab/sdk.hpp>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <memory>

namespace {

using petlab::sdk::Config;
using petlab::sdk::Error;
using petlab::sdk::HookCall;
using petlab::sdk::KnobList;
using petlab::sdk::Model;
using petlab::sdk::Param;
using petlab::sdk::Site;

/// One scaled site and the vector that scales it.
struct Scaled {
  Site site;
  at::Tensor scale;
};

/// Shared by the hooks and the method: while merged, the scales live in the weights and the hooks step aside.
struct State {
  bool merged = false;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

at::Tensor find_param(const std::vector<Param>& params, const std::string& name, const std::string& why) {
  for (const auto& p : params)
    if (p.name == name) return p.tensor;
  throw Error(PETLAB_ERR_NOT_FOUND, "ia3: " + why + " names parameter '" + name + "', which the model does not have");
}

class Ia3 : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "ia3";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "learned vectors rescale linear outputs and the FFN activation; mergeable";
  static constexpr bool mergeable = true;
  static KnobList knobs() {
    return {{"targets", std::vector<std::string>{"attn.k", "attn.v", "ffn.act"},
             "linear or activation site globs to scale"},
            KnobList::value_type::json("layers", "all", "layer selection: all, A-B, first:N, last:N, random:N, [i,...]")};
  }

  explicit Ia3(const Config& config) : targets_(config.get_strings("targets")), layers_(config.get_json("layers")) {
    if (targets_.empty())
      throw Error(PETLAB_ERR_INVALID_ARGUMENT, "ia3: targets is empty; expected site globs such as \"attn.k\"");
  }

  void attach(Model& model) override {
    const auto sites = model.sites(targets_, model.choose_layers(layers_));
    const auto all = model.sites();
    for (const auto& site : sites) {
      if (site.kind != PETLAB_SITE_LINEAR && site.kind != PETLAB_SITE_ACTIVATION)
        throw Error(PETLAB_ERR_INVALID_ARGUMENT, "ia3: targets [" + join(targets_) + "] match '" + site.name +
                                                     "', which is neither a linear nor an activation site; IA3 "
                                                     "scales linear outputs (attn.k, attn.v) and ffn.act");
      if (site.kind == PETLAB_SITE_ACTIVATION) consumer(all, site);  // fail now, not at merge time
    }
    if (sites.empty())
      throw Error(PETLAB_ERR_INVALID_ARGUMENT,
                  "ia3: targets [" + join(targets_) + "] select no site in layers " + layers_.dump());
    for (const auto& site : sites) model.claim(site.name, "scale");
    for (const auto& site : sites) {
      at::Tensor scale = model.add_parameter(site.name + ".ia3", at::ones({site.out_features}), "ia3", site.layer);
      const uint32_t slot = site.kind == PETLAB_SITE_LINEAR ? 1 : 0;
      model.add_hook(site.name, [scale, slot, state = state_](HookCall& call) {
        if (state->merged) return;
        at::Tensor& h = call.slot(slot);
        h = (h * scale).to(h.scalar_type());
      });
      scaled_.push_back({site, scale});
    }
    consumers_.clear();
    for (const auto& s : scaled_)
      if (s.site.kind == PETLAB_SITE_ACTIVATION) consumers_.push_back(consumer(all, s.site));
  }

  void merge(Model& model) override {
    if (state_->merged) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "ia3: merge called twice; unmerge first");
    apply(model, /*divide=*/false);
    state_->merged = true;
  }

  void unmerge(Model& model) override {
    if (!state_->merged) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "ia3: unmerge called without a merge");
    for (const auto& s : scaled_)
      if (s.scale.eq(0).any().item<bool>())
        throw Error(PETLAB_ERR_INVALID_ARGUMENT, "ia3: cannot unmerge '" + s.site.name +
                                                     "': its scaling vector has zeros, so the weights cannot be "
                                                     "divided back");
    apply(model, /*divide=*/true);
    state_->merged = false;
  }

 private:
  /// The linear site that reads an activation site's output: "<stack>.L<i>.ffn.act" feeds "<stack>.L<i>.ffn.out".
  static Site consumer(const std::vector<Site>& all, const Site& activation) {
    const std::string suffix = "ffn.act";
    const std::string& name = activation.name;
    if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      throw Error(PETLAB_ERR_INVALID_ARGUMENT, "ia3: activation site '" + name +
                                                   "' is not an ffn.act site, so no projection to merge into is known");
    const std::string out = name.substr(0, name.size() - suffix.size()) + "ffn.out";
    for (const auto& s : all)
      if (s.name == out && s.kind == PETLAB_SITE_LINEAR && s.in_features == activation.out_features) return s;
    throw Error(PETLAB_ERR_NOT_FOUND, "ia3: activation site '" + name + "' has no linear site '" + out + "' of input width " +
                                          std::to_string(activation.out_features) + " to merge into");
  }

  /// Multiplies (or divides) the weights the scales fold into.
  void apply(Model& model, bool divide) {
    const auto params = model.parameters();
    at::NoGradGuard no_grad;
    auto fold = [divide](at::Tensor target, const at::Tensor& factor) {
      const at::Tensor f = factor.to(target.scalar_type());
      divide ? target.div_(f) : target.mul_(f);
    };
    size_t next_consumer = 0;
    for (const auto& s : scaled_) {
      if (s.site.kind == PETLAB_SITE_LINEAR) {
        fold(find_param(params, s.site.weight, "site '" + s.site.name + "'"), s.scale.unsqueeze(1));  // rows
        if (!s.site.bias.empty()) fold(find_param(params, s.site.bias, "site '" + s.site.name + "'"), s.scale);
      } else {
        const Site& out = consumers_.at(next_consumer++);
        fold(find_param(params, out.weight, "site '" + out.name + "'"), s.scale.unsqueeze(0));  // input columns
      }
    }
  }

  std::vector<std::string> targets_;
  nlohmann::json layers_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::vector<Scaled> scaled_;
  std::vector<Site> consumers_;  // for each activation site in scaled_, in order
};

}  // namespace

PETLAB_PLUGIN("petlab-ia3", "1.0.0", Ia3)
