// Test plugin written only against the SDK: two methods in one library.
//  probe: adds a learned vector to the last slot of one site; element i starts at init*(i+1)/width, a
//         ramp rather than a constant so that a following LayerNorm cannot cancel it.
//  scale: multiplies a linear site's output by a learned scalar; mergeable into the weight and bias.
#include <petlab/sdk.hpp>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#ifndef PROBE_PLUGIN_NAME
#define PROBE_PLUGIN_NAME "petlab-test-probe"
#endif

namespace {

using petlab::sdk::Config;
using petlab::sdk::HookCall;
using petlab::sdk::KnobList;
using petlab::sdk::Model;

class Probe : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "probe";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "adds a learned vector to one site's output (test plugin)";
  static KnobList knobs() {
    return {{"site", "enc.L1.ffn.block", "the site whose last slot receives the vector"},
            {"init", 0.5, "the ramp's last value"}};
  }

  explicit Probe(const Config& config) : site_(config.get_string("site")), init_(config.get_float("init")) {}

  void attach(Model& model) override {
    const auto sites = model.sites({site_});
    const auto& site = sites.front();
    const int64_t width = site.out_features;
    at::Tensor ramp = at::arange(1, width + 1, at::kFloat) * (init_ / static_cast<double>(width));
    at::Tensor delta = model.add_parameter("delta", ramp, "probe", site.layer);
    model.add_hook(site.name, [delta](HookCall& call) {
      at::Tensor& out = call.slot(call.slot_count() - 1);
      out = out + delta;
    });
  }

 private:
  std::string site_;
  double init_;
};

class Scale : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "scale";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "multiplies a linear site's output by a learned scalar (test plugin)";
  static constexpr bool mergeable = true;
  static KnobList knobs() {
    return {{"site", "enc.L0.attn.o", "a linear site"}, {"init", 2.0, "initial scale"}};
  }

  explicit Scale(const Config& config) : site_(config.get_string("site")), init_(config.get_float("init")) {}

  void attach(Model& model) override {
    site_info_ = model.sites({site_}).front();
    if (site_info_.kind != PETLAB_SITE_LINEAR)
      throw petlab::sdk::Error(PETLAB_ERR_INVALID_ARGUMENT, "scale needs a linear site, got " + site_info_.name);
    scale_ = model.add_parameter("scale", at::full({1}, init_));
    auto merged = merged_;
    auto scale = scale_;
    model.add_hook(site_info_.name, [scale, merged](HookCall& call) {
      if (*merged) return;  // folded into the weights
      at::Tensor& y = call.slot(1);
      y = y * scale;
    });
  }

  void merge(Model& model) override { fold(model, /*into=*/true); }
  void unmerge(Model& model) override { fold(model, /*into=*/false); }

 private:
  void fold(Model& model, bool into) {
    if (*merged_ == into) return;
    at::NoGradGuard no_grad;
    for (auto& p : model.parameters())
      if (p.name == site_info_.weight || p.name == site_info_.bias) {
        if (into) p.tensor.mul_(scale_);
        else p.tensor.div_(scale_);
      }
    *merged_ = into;
  }

  std::string site_;
  double init_;
  petlab::sdk::Site site_info_{};
  at::Tensor scale_;
  std::shared_ptr<bool> merged_ = std::make_shared<bool>(false);
};

}  // namespace

PETLAB_PLUGIN(PROBE_PLUGIN_NAME, "1.0.0", Probe, Scale)
