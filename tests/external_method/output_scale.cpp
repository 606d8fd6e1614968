// An example third-party method: a learned per-feature scale on the output of linear sites, started at 1
// so that attaching it changes nothing until it trains. Everything it needs comes from petlab/sdk.hpp.
#include <petlab/sdk.hpp>

#include <ATen/ATen.h>

namespace {

class OutputScale : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "output_scale";
  static constexpr const char* version = "0.1.0";
  static constexpr const char* summary = "learned per-feature scaling of linear outputs (example plugin)";
  static petlab::sdk::KnobList knobs() {
    return {{"targets", std::vector<std::string>{"attn.v"}, "linear sites to scale (globs)"}};
  }

  explicit OutputScale(const petlab::sdk::Config& config) : targets_(config.get_strings("targets")) {}

  void attach(petlab::sdk::Model& model) override {
    for (const auto& site : model.sites(targets_)) {
      if (site.kind != PETLAB_SITE_LINEAR) continue;
      at::Tensor scale = model.add_parameter(site.name + ".scale", at::ones({site.out_features}), "scale", site.layer);
      model.add_hook(site.name, [scale](petlab::sdk::HookCall& call) {
        at::Tensor& y = call.slot(1);  // linear sites pass [input, output]
        y = y * scale;
      });
    }
  }

 private:
  std::vector<std::string> targets_;
};

}  // namespace

PETLAB_PLUGIN("output-scale-example", "0.1.0", OutputScale)
