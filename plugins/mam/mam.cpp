// Mix-And-Match (He et al. 2022, "Towards a Unified View of Parameter-Efficient Transfer Learning"): prefix tuning
// on attention plus a scaled parallel adapter on the FFN, as the `adapters` library's MAMConfig composes them.
// Both halves are the prefix and adapter methods' own code; see README.md for the knobs and counts.
#include "adapter/bottleneck_adapter.hpp"
#include "prefix/prefix_tuning.hpp"

#include <petlab/sdk.hpp>

namespace {

using petlab::methods::AdapterSpec;
using petlab::methods::PrefixOptions;
using petlab::sdk::Config;
using petlab::sdk::Error;
using petlab::sdk::KnobList;
using petlab::sdk::Model;
using petlab::sdk::Site;

/// The prefix half, checked under mam's knob names before the prefix code checks its own.
PrefixOptions prefix_options(const Config& config) {
  const PrefixOptions options{config.get_int("prefix_length"), config.get_bool("reparameterize"),
                              config.get_int("mid_dim"), config.get_float("prefix_dropout")};
  if (options.length < 1)
    throw Error(PETLAB_ERR_INVALID_ARGUMENT, "mam: prefix_length = " + std::to_string(options.length) +
                                                 "; expected a positive number of prefix positions");
  if (!(options.dropout >= 0.0 && options.dropout < 1.0))
    throw Error(PETLAB_ERR_INVALID_ARGUMENT, "mam: prefix_dropout = " + std::to_string(options.dropout) +
                                                 "; expected a probability in [0, 1)");
  return options;  // mid_dim keeps its name in both methods
}

/// The scaled parallel adapter of MAM: ParBnConfig's form with an explicit bottleneck width.
AdapterSpec ffn_adapter(const Config& config) {
  AdapterSpec spec;
  spec.parallel = true;
  spec.init = "lora";  // the library's "mam_adapter": the adapter starts as the identity
  spec.bottleneck = config.get_int("ffn_bottleneck");
  if (spec.bottleneck < 1)
    throw Error(PETLAB_ERR_INVALID_ARGUMENT, "mam: ffn_bottleneck = " + std::to_string(spec.bottleneck) +
                                                 "; expected a positive adapter width");
  spec.non_linearity = petlab::methods::checked_non_linearity("mam", config.get_string("non_linearity"));
  spec.scaling = 4.0;
  petlab::methods::read_scaling("mam", config.get_json("scaling"), spec);
  return spec;
}

class Mam : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "mam";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "MAM: prefix tuning on attention + scaled parallel adapter on the FFN";
  static KnobList knobs() {
    using K = KnobList::value_type;
    return {
        {"prefix_length", int64_t{30}, "prefix positions per attention site"},
        {"mid_dim", int64_t{800}, "hidden width of the prefix reparameterisation MLP"},
        {"reparameterize", true, "train the prefixes through the MLP (saved folded into plain prefixes)"},
        {"prefix_dropout", 0.0, "dropout on the prefix keys and values while training"},
        {"ffn_bottleneck", int64_t{512}, "width of the parallel adapter on the FFN"},
        K::json("scaling", 4.0, "the adapter's scaling: a number, or \"learned\" for a trainable scalar"),
        {"non_linearity", "relu", "the adapter's activation: relu | gelu | swish"},
        {"targets", std::vector<std::string>{"attn.kv", "xattn.kv", "ffn.block"},
         "site globs: attention sites (*.kv) get prefixes, block sites (*.block) get adapters"},
        K::json("layers", "all", "layer selection: all, A-B, first:N, last:N, random:N, [i,...]"),
    };
  }

  explicit Mam(const Config& config)
      : prefix_(prefix_options(config), id),
        adapters_(ffn_adapter(config), id),
        targets_(config.get_strings("targets")),
        layers_(config.get_json("layers")) {}

  void attach(Model& model) override {
    std::vector<Site> attention, blocks;
    for (auto& s : model.sites(targets_, model.choose_layers(layers_))) {
      if (s.kind != PETLAB_SITE_BLOCK && s.kind != PETLAB_SITE_ATTENTION)
        throw Error(PETLAB_ERR_INVALID_ARGUMENT, "mam: target site '" + s.name +
                                                     "' is neither an attention site (*.kv, for prefixes) nor a "
                                                     "block site (*.block, for the adapter)");
      (s.kind == PETLAB_SITE_BLOCK ? blocks : attention).push_back(std::move(s));
    }
    if (blocks.empty())
      throw Error(PETLAB_ERR_INVALID_ARGUMENT,
                  "mam: no block site among the targets; the parallel adapter needs e.g. \"ffn.block\" "
                  "(use the prefix method for prefixes alone)");
    if (attention.empty())
      throw Error(PETLAB_ERR_INVALID_ARGUMENT,
                  "mam: no attention site among the targets; the prefixes need e.g. \"attn.kv\" "
                  "(use the adapter method for adapters alone)");
    prefix_.attach(model, attention);
    adapters_.attach(model, blocks);
  }

  nlohmann::json fold(Model& model) override { return prefix_.fold(model); }

 private:
  petlab::methods::PrefixTuning prefix_;
  petlab::methods::BottleneckAdapters adapters_;
  std::vector<std::string> targets_;
  nlohmann::json layers_;
};

}  // namespace

PETLAB_PLUGIN("petlab-mam", "1.0.0", Mam)
