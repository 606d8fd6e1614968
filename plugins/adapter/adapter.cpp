// Bottleneck adapters (Houlsby et al.; Pfeiffer et al.; He et al.'s parallel and scaled parallel forms) on
// sublayer sites, computed as the `adapters` library computes them. See README.md for each variant's formula.
#include "bottleneck_adapter.hpp"

#include <petlab/sdk.hpp>

namespace {

using petlab::methods::AdapterSpec;
using petlab::sdk::Config;
using petlab::sdk::Error;
using petlab::sdk::KnobList;
using petlab::sdk::Model;

class Adapter : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "adapter";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary =
      "bottleneck adapters on sublayer outputs: houlsby, pfeiffer, parallel, scaled_parallel";
  static KnobList knobs() {
    using K = KnobList::value_type;
    return {
        {"variant", "pfeiffer", "houlsby | pfeiffer | parallel | scaled_parallel"},
        {"reduction_factor", int64_t{16}, "bottleneck width = hidden size / reduction_factor"},
        {"bottleneck", int64_t{0}, "bottleneck width; 0 = use reduction_factor (give one of the two)"},
        {"non_linearity", "", "relu | gelu | swish; empty = the variant's (houlsby swish, others relu)"},
        K::json("scaling", nullptr, "a number, or \"learned\" for a trainable scalar; null = the variant's "
                                    "(scaled_parallel 4, others 1)"),
        {"init", "", "bert | lora | mam | houlsby; empty = the variant's (sequential bert, parallel lora)"},
        {"ln_before", false, "a new LayerNorm before the down projection"},
        {"ln_after", false, "a new LayerNorm after the up projection"},
        {"placement", "", "attn | ffn | both; empty = the variant's (houlsby both, others ffn)"},
        {"targets", std::vector<std::string>{}, "block site globs; empty = from placement (attn.block, ffn.block)"},
        K::json("layers", "all", "layer selection: all, A-B, first:N, last:N, random:N, [i,...]"),
    };
  }

  explicit Adapter(const Config& config) : layers_(config.get_json("layers")), targets_(config.get_strings("targets")) {
    const auto& variant = petlab::methods::find_adapter_variant(id, config.get_string("variant"));
    spec_.parallel = variant.parallel;
    spec_.original_norm_before = variant.original_norm_before;
    petlab::methods::read_bottleneck(id, config.get_int("reduction_factor"), config.get_int("bottleneck"), spec_);
    const std::string act = config.get_string("non_linearity");
    spec_.non_linearity = petlab::methods::checked_non_linearity(id, act.empty() ? variant.non_linearity : act);
    spec_.scaling = variant.scaling;
    petlab::methods::read_scaling(id, config.get_json("scaling"), spec_);
    const std::string init = config.get_string("init");
    spec_.init = petlab::methods::checked_init(id, init.empty() ? variant.init : init);
    spec_.ln_before = config.get_bool("ln_before");
    spec_.ln_after = config.get_bool("ln_after");

    const std::string placement = config.get_string("placement");
    if (!placement.empty() && !targets_.empty())
      throw Error(PETLAB_ERR_INVALID_ARGUMENT, "adapter: give either placement ('" + placement +
                                                   "') or targets, not both; targets name the block sites directly");
    if (targets_.empty()) {
      const std::string where = petlab::methods::checked_choice(id, "placement", placement.empty() ? variant.placement
                                                                                                     : placement,
                                                                {"attn", "ffn", "both"});
      if (where != "ffn") targets_.push_back("attn.block");
      if (where != "attn") targets_.push_back("ffn.block");
    }
  }

  void attach(Model& model) override {
    const Model::LayerChoice choice = model.choose_layers(layers_);
    petlab::methods::BottleneckAdapters(spec_, id).attach(model, model.sites(targets_, choice));
  }

 private:
  AdapterSpec spec_;
  nlohmann::json layers_;
  std::vector<std::string> targets_;
};

}  // namespace

PETLAB_PLUGIN("petlab-adapter", "1.0.0", Adapter)
