// BitFit (Ben Zaken et al.): train the bias terms only. Backbones without biases (T5) get zero-initialised
// biases on the selected linear sites first, so the method means the same thing on every architecture.
#include <petlab/sdk.hpp>

#include <ATen/ATen.h>

#include <set>

namespace {

using petlab::sdk::Config;
using petlab::sdk::Error;
using petlab::sdk::HookCall;
using petlab::sdk::KnobList;
using petlab::sdk::Model;

class BitFit : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "bitfit";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "trains only bias terms; adds zero biases where the backbone has none";
  static KnobList knobs() {
    return {{"which", "all", "all | attention | ffn: which biases train"},
            KnobList::value_type::json("layers", "all", "layer selection: all, A-B, first:N, last:N, random:N, [i,...]")};
  }

  explicit BitFit(const Config& config) : which_(config.get_string("which")), layers_(config.get_json("layers")) {
    if (which_ != "all" && which_ != "attention" && which_ != "ffn")
      throw Error(PETLAB_ERR_INVALID_ARGUMENT, "bitfit: which = '" + which_ + "'; expected all, attention or ffn");
  }

  void attach(Model& model) override {
    const std::vector<std::string> targets = which_ == "attention" ? std::vector<std::string>{"attn.*", "xattn.*"}
                                             : which_ == "ffn"     ? std::vector<std::string>{"ffn.*"}
                                                                   : std::vector<std::string>{"*"};
    const Model::LayerChoice choice = model.choose_layers(layers_);
    std::set<std::string> trained;
    for (const auto& site : model.sites(targets, choice)) {
      if (site.kind != PETLAB_SITE_LINEAR) continue;
      if (!site.bias.empty()) {
        model.set_trainable(site.bias, true);
        trained.insert(site.bias);
        continue;
      }
      model.claim(site.name, "bias");
      at::Tensor bias = model.add_parameter(site.name + ".bias", at::zeros({site.out_features}), "bias", site.layer);
      model.add_hook(site.name, [bias](HookCall& call) {
        at::Tensor& y = call.slot(1);
        y = y + bias;
      });
    }
    // Norm biases (BERT's LayerNorms) belong to the sublayer they close; T5's RMS norms have none.
    for (const auto& p : model.parameters()) {
      if (p.owner != "backbone" || !p.has_tag("bias") || trained.count(p.name) != 0) continue;
      const bool in_group = which_ == "all" || (which_ == "attention" && (p.has_tag("attn") || p.has_tag("xattn"))) ||
                            (which_ == "ffn" && p.has_tag("ffn"));
      // Layer-less biases (embeddings, pooler) train only when every layer does.
      const bool chosen = p.layer < 0 ? layers_ == "all"
                                      : Model::is_chosen(choice, p.has_tag("dec") ? "dec" : "enc", p.layer);
      if (in_group && chosen) model.set_trainable(p.name, true);
    }
  }

 private:
  std::string which_;
  nlohmann::json layers_;
};

}  // namespace

PETLAB_PLUGIN("petlab-bitfit", "1.0.0", BitFit)
