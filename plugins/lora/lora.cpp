// LoRA (Hu et al.): a frozen linear layer W learns a low-rank update, y = W x + (alpha/r) · B A x, with A [r, in]
// and B [out, r]. B starts at zero, so attaching changes nothing until training moves it. Mergeable: the update
// can be folded into W for inference and taken out again.
#include <petlab/sdk.hpp>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <memory>

namespace {

using petlab::sdk::Config;
using petlab::sdk::Error;
using petlab::sdk::HookCall;
using petlab::sdk::KnobList;
using petlab::sdk::Model;

/// One adapted linear site: its backbone weight and the two factors.
struct Adapted {
  std::string site, weight;
  at::Tensor a, b;
};

/// Shared by the hooks and the method: while merged, the update lives in W and the hooks step aside.
struct State {
  bool merged = false;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

class Lora : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "lora";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "low-rank weight updates W + (alpha/r) B A on linear sites; mergeable";
  static constexpr bool mergeable = true;
  static KnobList knobs() {
    return {{"r", 8, "rank of the update (>= 1)"},
            {"alpha", 8.0, "scaling numerator: the update is multiplied by alpha / r (> 0)"},
            {"dropout", 0.0, "dropout on the input of A while training, in [0, 1)"},
            {"targets", std::vector<std::string>{"attn.q", "attn.v"}, "linear site globs to adapt"},
            KnobList::value_type::json("layers", "all", "layer selection: all, A-B, first:N, last:N, random:N, [i,...]"),
            {"init_a", "kaiming", "kaiming (PEFT's default: kaiming_uniform a=sqrt(5)) | gaussian (N(0, (1/r)^2))"},
            {"rslora", false, "rank-stabilised scaling alpha / sqrt(r) instead of alpha / r"}};
  }

  explicit Lora(const Config& config)
      : r_(config.get_int("r")), alpha_(config.get_float("alpha")), dropout_(config.get_float("dropout")),
        targets_(config.get_strings("targets")), layers_(config.get_json("layers")),
        init_a_(config.get_string("init_a")), rslora_(config.get_bool("rslora")) {
    auto bad = [](const std::string& message) { throw Error(PETLAB_ERR_INVALID_ARGUMENT, "lora: " + message); };
    if (r_ < 1) bad("r = " + std::to_string(r_) + "; expected an integer >= 1");
    if (!(alpha_ > 0)) bad("alpha = " + std::to_string(alpha_) + "; expected a number > 0");
    if (!(dropout_ >= 0 && dropout_ < 1)) bad("dropout = " + std::to_string(dropout_) + "; expected a value in [0, 1)");
    if (init_a_ != "kaiming" && init_a_ != "gaussian") bad("init_a = '" + init_a_ + "'; expected kaiming or gaussian");
    if (targets_.empty()) bad("targets is empty; expected at least one linear site glob such as \"attn.q\"");
    scale_ = rslora_ ? alpha_ / std::sqrt(static_cast<double>(r_)) : alpha_ / static_cast<double>(r_);
  }

  void attach(Model& model) override {
    const auto sites = model.sites(targets_, model.choose_layers(layers_));
    for (const auto& site : sites)
      if (site.kind != PETLAB_SITE_LINEAR)
        throw Error(PETLAB_ERR_INVALID_ARGUMENT, "lora: targets [" + join(targets_) + "] match '" + site.name +
                                                     "', which is not a linear site; LoRA adapts linear sites only "
                                                     "(e.g. attn.q, attn.v, ffn.in, ffn.out)");
    if (sites.empty())
      throw Error(PETLAB_ERR_INVALID_ARGUMENT,
                  "lora: targets [" + join(targets_) + "] select no site in layers " + layers_.dump());
    for (const auto& site : sites) model.claim(site.name, "weight_delta");
    // Random draws in site order, A before B, from the host's init-seeded generator.
    for (const auto& site : sites) {
      at::Tensor a = at::empty({r_, site.in_features});
      if (init_a_ == "kaiming") {
        // kaiming_uniform_(a = sqrt(5)) as torch.nn.init computes it: gain sqrt(2 / (1 + 5)), bound sqrt(3) * std.
        const double gain = std::sqrt(2.0 / 6.0), bound = std::sqrt(3.0) * gain / std::sqrt(double(site.in_features));
        a.uniform_(-bound, bound);
      } else {
        a.normal_(0.0, 1.0 / static_cast<double>(r_));
      }
      Adapted adapted{site.name, site.weight, {}, {}};
      adapted.a = model.add_parameter(site.name + ".lora_A", a, "lora", site.layer);
      adapted.b = model.add_parameter(site.name + ".lora_B", at::zeros({site.out_features, r_}), "lora", site.layer);
      model.add_hook(site.name, [a = adapted.a, b = adapted.b, state = state_, scale = scale_,
                                 dropout = dropout_](HookCall& call) {
        if (state->merged) return;
        const at::Tensor& x = call.slot(0);
        at::Tensor& y = call.slot(1);
        at::Tensor in = x.to(a.scalar_type()).reshape({-1, x.size(-1)});
        if (dropout > 0 && call.training()) in = at::dropout(in, dropout, /*train=*/true);
        // y + scale · (x Aᵀ) Bᵀ as one addmm: no separate tensors for the product, its scaling and the sum.
        const at::Tensor sum = at::addmm(y.reshape({-1, y.size(-1)}).to(a.scalar_type()), at::mm(in, a.t()), b.t(),
                                         /*beta=*/1.0, /*alpha=*/scale);
        y = sum.view(y.sizes()).to(y.scalar_type());
      });
      adapted_.push_back(std::move(adapted));
    }
  }

  void merge(Model& model) override {
    if (state_->merged) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "lora: merge called twice; unmerge first");
    fold_into_weights(model, +1.0);
    state_->merged = true;
  }

  void unmerge(Model& model) override {
    if (!state_->merged) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "lora: unmerge called without a merge");
    fold_into_weights(model, -1.0);
    state_->merged = false;
  }

 private:
  /// W += sign · scale · B A for every adapted site.
  void fold_into_weights(Model& model, double sign) {
    const auto params = model.parameters();
    at::NoGradGuard no_grad;
    for (const auto& adapted : adapted_) {
      at::Tensor weight = find_weight(params, adapted);
      weight.add_(at::matmul(adapted.b, adapted.a).to(weight.scalar_type()), sign * scale_);
    }
  }

  static at::Tensor find_weight(const std::vector<petlab::sdk::Param>& params, const Adapted& adapted) {
    for (const auto& p : params)
      if (p.name == adapted.weight) return p.tensor;
    throw Error(PETLAB_ERR_NOT_FOUND, "lora: site '" + adapted.site + "' names weight '" + adapted.weight +
                                          "', which the model does not have");
  }

  int64_t r_;
  double alpha_, dropout_, scale_ = 1.0;
  std::vector<std::string> targets_;
  nlohmann::json layers_;
  std::string init_a_;
  bool rslora_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::vector<Adapted> adapted_;
};

}  // namespace

PETLAB_PLUGIN("petlab-lora", "1.0.0", Lora)
