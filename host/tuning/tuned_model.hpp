// A backbone with its task head and the tuning methods attached to it: the unit a run trains, saves and
// evaluates. It fixes the order that makes initialisation reproducible (seed, head, then methods in the order
// given) and the counts a study reports (trainable parameters, and their share of the backbone).
#pragma once

#include "backbone/backbone.hpp"
#include "backbone/heads.hpp"
#include "plugin/method.hpp"
#include "plugin/registry.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace petlab {

namespace tok {
class Tokenizer;
}

/// One `[[methods]]` entry: a method id and its knobs.
struct MethodSpec {
  std::string id;
  nlohmann::json knobs = nlohmann::json::object();
};

/// Parameter counts of a tuned model (elements, not tensors).
struct ParameterCount {
  int64_t trainable = 0;        ///< everything that receives gradients: method parameters, head, unfrozen backbone
  int64_t backbone = 0;         ///< every backbone parameter, trainable or not
  int64_t methods = 0;          ///< parameters the methods created (trainable or not)
  int64_t head = 0;             ///< the encoder task head
  /// Trainable parameters as a percentage of the backbone's size (what PET papers report).
  double percent_of_backbone() const { return backbone == 0 ? 0.0 : 100.0 * static_cast<double>(trainable) / backbone; }
};

class TunedModel {
 public:
  /// Freezes `backbone`, seeds torch's default generator with `init_seed`, adds the head (encoders; pass
  /// nullopt for none, T5 always has none) and attaches `methods` in order. Method instances are named by
  /// their id, "<id>.2"... when a method appears again. Throws petlab::Error naming the failing method.
  TunedModel(std::shared_ptr<Backbone> backbone, std::optional<HeadOptions> head, const std::vector<MethodSpec>& methods,
             const MethodRegistry& registry, uint64_t init_seed);
  ~TunedModel();
  TunedModel(const TunedModel&) = delete;
  TunedModel& operator=(const TunedModel&) = delete;

  Backbone& backbone() { return *backbone_; }
  const Backbone& backbone() const { return *backbone_; }
  std::shared_ptr<Backbone> shared_backbone() const { return backbone_; }
  EncoderHead* head() { return head_.get(); }
  const EncoderHead* head() const { return head_.get(); }
  const std::vector<std::unique_ptr<MethodInstance>>& methods() const { return methods_; }
  uint64_t init_seed() const { return init_seed_; }

  ParameterCount count() const;

  /// Folds every mergeable method into the backbone weights (for fast evaluation) and back. Merging a run
  /// with a method that cannot merge throws, naming it.
  void merge();
  void unmerge();
  bool merged() const { return merged_; }

  /// Training mode (dropout on) or evaluation, for the backbone and the head together.
  void train(bool on = true);

 private:
  std::shared_ptr<Backbone> backbone_;
  std::unique_ptr<EncoderHead> head_;
  std::vector<std::unique_ptr<MethodInstance>> methods_;
  uint64_t init_seed_;
  bool merged_ = false;
};

}  // namespace petlab
