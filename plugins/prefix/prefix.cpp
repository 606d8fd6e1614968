// Prefix tuning (Li & Liang 2021): learned keys and values in front of every chosen attention, trained through
// PEFT's MLP reparameterisation or directly. The reusable part lives in prefix_tuning.hpp (MAM uses it too).
#include "prefix_tuning.hpp"

#include <petlab/sdk.hpp>

namespace {

using petlab::methods::PrefixOptions;
using petlab::methods::PrefixTuning;
using petlab::sdk::Config;
using petlab::sdk::KnobList;
using petlab::sdk::Model;

class Prefix : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "prefix";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "prefix tuning: learned key/value prefixes on attention sites";
  static KnobList knobs() {
    return {{"length", int64_t{30}, "prefix positions per attention site"},
            {"reparameterize", true, "train through an MLP (PEFT's prefix_projection); saved folded"},
            {"mid_dim", int64_t{512}, "hidden width of the reparameterisation MLP"},
            {"dropout", 0.0, "dropout on the prefix keys and values while training"},
            {"targets", std::vector<std::string>{"attn.kv"},
             "attention sites (globs): attn.kv = self-attention of every stack, xattn.kv = T5 cross-attention"},
            KnobList::value_type::json("layers", "all", "layer selection: all, A-B, first:N, last:N, random:N, [i,...]")};
  }

  explicit Prefix(const Config& config)
      : prefix_(PrefixOptions{config.get_int("length"), config.get_bool("reparameterize"), config.get_int("mid_dim"),
                              config.get_float("dropout")}),
        targets_(config.get_strings("targets")),
        layers_(config.get_json("layers")) {}

  void attach(Model& model) override { prefix_.attach(model, model.sites(targets_, model.choose_layers(layers_))); }
  nlohmann::json fold(Model& model) override { return prefix_.fold(model); }

 private:
  PrefixTuning prefix_;
  std::vector<std::string> targets_;
  nlohmann::json layers_;
};

}  // namespace

PETLAB_PLUGIN("petlab-prefix", "1.0.0", Prefix)
