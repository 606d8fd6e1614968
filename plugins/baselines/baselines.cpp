// The two baselines every PET study is measured against (Chen et al.'s fair comparison):
//  full: every backbone parameter trains (full fine-tuning).
//  head: nothing but the task head trains: the host's encoder head (always trainable), and on T5, whose
//        "head" is its LM head, the backbone parameters tagged head (lm_head, or the tied shared embedding).
#include <petlab/sdk.hpp>

namespace {

using petlab::sdk::Config;
using petlab::sdk::KnobList;
using petlab::sdk::Model;

class Full : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "full";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "full fine-tuning: every backbone parameter trains";
  static KnobList knobs() { return {}; }
  explicit Full(const Config&) {}

  void attach(Model& model) override {
    for (const auto& p : model.parameters())
      if (p.owner == "backbone" && p.tensor.is_floating_point()) model.set_trainable(p.name, true);
  }
};

class Head : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "head";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "linear probing: only the task head trains, the backbone stays frozen";
  static KnobList knobs() { return {}; }
  explicit Head(const Config&) {}

  void attach(Model& model) override {
    for (const auto& p : model.parameters())
      if (p.owner == "backbone" && p.has_tag("head")) model.set_trainable(p.name, true);
  }
};

}  // namespace

PETLAB_PLUGIN("petlab-baselines", "1.0.0", Full, Head)
