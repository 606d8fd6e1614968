// What the PEFT parity suites (lora, ia3, prefix, prompt) share: the plugin registry, the outputs both sides
// compare and how far apart they may be, attaching a saved state, parameter counts, and the round trip of an
// adapter petlab writes through PeftModel.from_pretrained in the reference script.
#pragma once

#include "artifacts/peft_format.hpp"
#include "backbone/backbone.hpp"
#include "backbone/bert.hpp"
#include "backbone/safetensors.hpp"
#include "plugin/registry.hpp"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <string>

namespace petlab::peft_parity {

inline const std::filesystem::path kTiny = std::filesystem::path(PETLAB_FIXTURE_DIR) / "tiny_models";
constexpr double kTolerance = 1e-5;

/// The plugins built with the project, loaded once per suite.
const MethodRegistry& registry();

/// The PEFT converter of `method`; fails the test when none is registered.
const PeftConverter& converter(const std::string& method);

/// Encoder states at every position the encoder returns (soft tokens first, padding zeroed), or T5's
/// teacher-forced logits, for the inputs in `in`.
at::Tensor outputs(Backbone& model, const SafetensorsFile& in);

/// The same quantity from a file PEFT wrote (float32, or with suffix "_fp64" computed in float64), masked like
/// outputs(): rows PEFT adds before the real tokens (soft tokens) kept, padding zeroed.
at::Tensor peft_outputs(Backbone& model, const SafetensorsFile& file, const SafetensorsFile& inputs,
                        const std::string& suffix = "");

/// Largest |a - b|, computed in float64.
double max_abs_diff(const at::Tensor& a, const at::Tensor& b);

/// Difference relative to the outputs' size: T5 v1.1's untied logits reach |23|, where float32 rounding alone
/// moves results by about 1e-5 (a round trip through merge and unmerge restores weights to 3e-8 and still does).
double relative_diff(const at::Tensor& a, const at::Tensor& b);

/// Our float32 outputs against PEFT's, and how far each is from PEFT's float64 result: T5 v1.1's logits reach
/// |23|, where float32 rounding alone moves PEFT's own result by about 1e-5.
struct Comparison {
  double vs_peft, ours_vs_fp64, peft_vs_fp64;
};
Comparison compare(Backbone& model, const at::Tensor& ours, const SafetensorsFile& peft, const SafetensorsFile& inputs);
/// 1e-5, or twice PEFT's own float32 rounding (its distance to the float64 result) where that is larger: two
/// float32 computations that far from the exact result can differ by that much (T5 v1.1's logits reach |23|, and
/// PEFT's own float32 result is 1e-5 to 1.3e-5 away from the exact one there).
double tolerance(const Comparison& c);
std::ostream& operator<<(std::ostream& out, const Comparison& c);

/// The same rule for a fixture case that records PEFT's float32 rounding as "float32_noise" in counts.json
/// (tiny T5 v1.1's logits reach 24, where PEFT's float32 logits are about 1.1e-5 from its float64 ones).
double tolerance(const std::filesystem::path& fixture_case);

nlohmann::json read_json(const std::filesystem::path& file);

/// Attaches `state` to `model` as the artifact loader would: its knobs, then its tensors copied in.
std::unique_ptr<MethodInstance> attach_state(Backbone& model, const MethodState& state);

/// Elements of the parameters `owner` created, each checked to be trainable.
int64_t method_elements(Backbone& model, const std::string& owner);
/// Elements of the trainable parameters `owner` created (transient ones included).
int64_t trainable_elements(Backbone& model, const std::string& owner);

struct PeftCase {
  std::string name;   // fixture folder
  std::string model;  // tiny_models folder (prefix: or t5-even in its fixture)
};

/// A RoBERTa-base-shaped encoder (12 layers, hidden 768, 12 heads, FFN 3072) without a checkpoint; the
/// vocabulary is cut to a few rows since no count depends on it.
std::shared_ptr<BertEncoder> roberta_base_shape();

/// Seeded values for a method's parameters: offset + scale * N(0, 1), drawn after at::manual_seed(seed).
struct Seeded {
  uint64_t seed;
  double offset, scale;
};
/// Sets every parameter `owner` created as `values` says; returns them named as in a MethodState (no "<owner>/").
std::map<std::string, at::Tensor> randomise(Backbone& model, const std::string& owner, const Seeded& values);

/// Attaches `method` with `knobs` on the case's model, gives its parameters seeded `values`, writes them through
/// to_peft and has PEFT load them (the `fixture`'s own script, --check), and compares the outputs on the case's
/// inputs.
Comparison petlab_to_peft(const std::string& method, const Seeded& values, const std::filesystem::path& fixture,
                          const PeftCase& c, const nlohmann::json& knobs);

/// Outputs with the method's hooks, after merge() and after unmerge(), and how far the backbone's weights moved
/// in the merge and how close unmerge() brought them back.
struct MergeRoundTrip {
  at::Tensor hooked, merged, unmerged;
  double moved, restored;
};
MergeRoundTrip merge_round_trip(Backbone& model, MethodInstance& instance, const SafetensorsFile& ref);

/// Writes `adapter` for the base model in `model_dir` to a scratch folder named after `tag`, has
/// `script --check` (a reference script) load it with PeftModel.from_pretrained on the inputs in `inputs`, and
/// returns PEFT's outputs. The folder is removed again: the mapping outlives the file.
SafetensorsFile peft_check(const std::string& script, const std::string& tag, PeftAdapter adapter,
                           const std::filesystem::path& model_dir, const std::filesystem::path& inputs);

}  // namespace petlab::peft_parity
