// The adapter method against the `adapters` library: the fixture adapters_parity holds the library's configs,
// seeded random weights and outputs on all-MiniLM-L6-v2 and tiny T5; we load the same weights into our
// parameters and compare. Also trainable-parameter counts (the library's, and closed forms on a RoBERTa-base
// shape) and the refusals of bad knobs. The helpers in adapter_tests are shared with mam_test.cpp.
#include "backbone/backbone.hpp"
#include "backbone/bert.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "methods/built_methods.hpp"
#include "plugin/registry.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace petlab;
using petlab::testing::built_methods;

namespace petlab::adapter_tests {

const fs::path kModels = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";
const fs::path kCases = fs::path(PETLAB_FIXTURE_DIR) / "adapters_parity";

int64_t trainable_count(Backbone& model, const std::string& owner) {
  int64_t n = 0;
  for (const auto& p : model.surface().params.all())
    if (p.owner == owner && p.trainable()) n += p.tensor.numel();
  return n;
}

/// A BertEncoder shaped like RoBERTa-base (12 layers, hidden 768, 12 heads, FFN 3072), built from options: what
/// a method adds depends on the shape only, so no 500 MB checkpoint is needed (a tiny vocabulary keeps it light).
std::shared_ptr<Backbone> roberta_base_shape() {
  ModelConfig config{.dir = "roberta-base-shape", .model_type = "roberta", .raw = nlohmann::json::object()};
  BertOptions o{.vocab = 8, .hidden = 768, .layers = 12, .heads = 12, .intermediate = 3072, .max_positions = 16,
                .type_vocab = 1, .pad_id = 1, .eps = 1e-5, .roberta_positions = true};
  return std::make_shared<BertEncoder>(config, o);
}

/// What `method` with `knobs` adds (trainable elements) to the RoBERTa-base shape.
int64_t roberta_base_count(const std::string& method, const nlohmann::json& knobs) {
  auto model = roberta_base_shape();
  model->surface().params.freeze_all();
  auto instance = built_methods().create(method, knobs);
  instance->attach(model->surface());
  return trainable_count(*model, instance->name());
}

namespace {
double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }
/// The difference relative to the scale of the reference (at least 1): two float32 computations of the same
/// function agree to a few ulps of their magnitude (T5 v1.1's logits reach ~25), whatever order they sum in.
double scaled_diff(const at::Tensor& a, const at::Tensor& b) {
  return max_abs_diff(a, b) / std::max(1.0, b.abs().max().item<double>());
}

struct Outputs {
  at::Tensor hidden, logits;  // logits: T5 only
};

Outputs forward(Backbone& model, const SafetensorsFile& ref) {
  at::NoGradGuard no_grad;
  const bool t5 = model.is_encoder_decoder();
  const EncoderOutput encoded =
      model.encode(ref.get("input_ids"), ref.get("attention_mask"), t5 ? at::Tensor() : ref.get("token_type_ids"));
  if (!t5) return {encoded.hidden, {}};
  auto& t5_model = static_cast<T5Model&>(model);
  return {encoded.hidden, t5_model.decode(encoded, ref.get("decoder_input_ids"), ref.get("decoder_attention_mask"))};
}
}  // namespace

/// Runs one case of the adapters_parity fixture: attaches the method with the case's knobs, copies the library's
/// weights into our parameters (every one of them, by name), and compares the outputs and the trainable counts.
void check_library_parity(const std::string& name, double tolerance) {
  std::ifstream index_file(kCases / "cases.json");
  REQUIRE(index_file.good());
  const auto index = nlohmann::json::parse(index_file);
  REQUIRE(index.contains(name));
  const auto& c = index.at(name);
  const SafetensorsFile ref(kCases / (name + ".safetensors"));
  auto model = load_backbone(kModels / c.at("model").get<std::string>() / "model");
  model->surface().params.freeze_all();
  const Outputs before = forward(*model, ref);

  auto instance = built_methods().create(c.at("method").get<std::string>(), c.at("knobs"));
  instance->attach(model->surface());
  model->eval();
  int expected = 0, copied = 0;
  for (const auto& n : ref.names()) expected += n.rfind("param.", 0) == 0;
  {
    at::NoGradGuard no_grad;
    for (auto& p : model->surface().params.all()) {
      if (p.owner != instance->name()) continue;
      const std::string key = "param." + p.name.substr(instance->name().size() + 1);
      CAPTURE(key);
      REQUIRE(ref.contains(key));
      REQUIRE(p.tensor.sizes() == ref.get(key).sizes());
      p.tensor.copy_(ref.get(key));
      ++copied;
    }
  }
  CHECK(copied == expected);
  const int64_t ours = trainable_count(*model, instance->name());
  const int64_t library = ref.get("trainable_count").item<int64_t>();
  CHECK(ours == library);

  const Outputs after = forward(*model, ref);
  // Padding positions carry no meaning; compare real tokens only.
  const at::Tensor keep = ref.get("attention_mask").unsqueeze(-1).to(at::kFloat);
  const at::Tensor reference = ref.get("last_hidden_state") * keep;
  const double diff = scaled_diff(after.hidden * keep, reference);
  const double change = max_abs_diff(after.hidden * keep, before.hidden * keep);
  MESSAGE(name << ": trainable " << ours << " (library " << library << "), encoder max abs diff "
               << max_abs_diff(after.hidden * keep, reference) << " (" << diff << " of the output's scale "
               << reference.abs().max().item<double>() << "), the adapter moved the output by up to " << change);
  CHECK(diff <= tolerance);
  CHECK(change > 1e3 * tolerance);  // the weights are non-trivial: a method that did nothing would fail here
  if (after.logits.defined()) {
    const double logits_diff = scaled_diff(after.logits, ref.get("logits"));
    MESSAGE(name << ": logits max abs diff " << max_abs_diff(after.logits, ref.get("logits")) << " ("
                 << logits_diff << " of their scale " << ref.get("logits").abs().max().item<double>() << ")");
    CHECK(logits_diff <= tolerance);
  }
}

}  // namespace petlab::adapter_tests

using namespace petlab::adapter_tests;

namespace {
constexpr double kTolerance = 1e-5;
}

TEST_CASE("houlsby equals the adapters library's DoubleSeqBnConfig on all-MiniLM-L6-v2") {
  check_library_parity("minilm_houlsby", kTolerance);
}

TEST_CASE("pfeiffer equals the adapters library's SeqBnConfig on all-MiniLM-L6-v2 (the backbone's own norm first)") {
  check_library_parity("minilm_pfeiffer", kTolerance);
}

TEST_CASE("parallel equals the adapters library's ParBnConfig with scaling 1 on all-MiniLM-L6-v2") {
  check_library_parity("minilm_parallel", kTolerance);
}

TEST_CASE("scaled_parallel equals the adapters library's ParBnConfig (scaling 4) on all-MiniLM-L6-v2") {
  check_library_parity("minilm_scaled_parallel", kTolerance);
}

TEST_CASE("ln_before, ln_after, gelu and a learned scaling equal the adapters library's SeqBnConfig options") {
  check_library_parity("minilm_pfeiffer_norms_learned", kTolerance);
}

TEST_CASE("a parallel adapter on attention with ln_before, swish and scaling 2 equals the adapters library's") {
  check_library_parity("minilm_parallel_attn_norm", kTolerance);
}

TEST_CASE("houlsby, pfeiffer and scaled_parallel equal the adapters library on tiny T5 v1.0 (encoder and logits)") {
  for (const std::string name : {"t5-v1_0_houlsby", "t5-v1_0_pfeiffer", "t5-v1_0_scaled_parallel"}) {
    CAPTURE(name);
    check_library_parity(name, kTolerance);
  }
}

TEST_CASE("pfeiffer with cross-attention adapters and parallel equal the adapters library on tiny T5 v1.1") {
  for (const std::string name : {"t5-v1_1_pfeiffer_cross", "t5-v1_1_parallel"}) {
    CAPTURE(name);
    check_library_parity(name, kTolerance);
  }
}

TEST_CASE("adapter counts on a RoBERTa-base shape follow the closed forms in plugins/adapter/README.md") {
  // Per adapter: down H·b + b, up b·H + H; H = 768, b = 768 / 16 = 48; 12 layers.
  const int64_t H = 768, b = 48, L = 12, per_adapter = H * b + b + b * H + H;
  CHECK(per_adapter * L == 894528);
  CHECK(roberta_base_count("adapter", {{"variant", "pfeiffer"}}) == 894528);
  CHECK(roberta_base_count("adapter", {{"variant", "houlsby"}}) == 2 * L * per_adapter);
  CHECK(roberta_base_count("adapter", {{"variant", "scaled_parallel"}}) == L * per_adapter);
  // New norms add 2H each, a learned scaling 1, per adapter.
  CHECK(roberta_base_count("adapter", {{"variant", "parallel"}, {"ln_before", true}, {"ln_after", true},
                                       {"scaling", "learned"}}) == L * (per_adapter + 4 * H + 1));
  CHECK(roberta_base_count("adapter", {{"variant", "pfeiffer"}, {"bottleneck", 64}, {"layers", "last:4"}}) ==
        4 * (H * 64 + 64 + 64 * H + H));
}

TEST_CASE("adapter refuses bad knobs with messages that name the knob and what it expects") {
  const auto& r = built_methods();
  CHECK_THROWS_WITH_AS(r.create("adapter", {{"variant", "serial"}}),
                       doctest::Contains("variant = 'serial'; expected houlsby, pfeiffer, parallel or scaled_parallel"),
                       Error);
  CHECK_THROWS_WITH_AS(r.create("adapter", {{"bottleneck", 32}, {"reduction_factor", 8}}),
                       doctest::Contains("give either bottleneck (got 32) or reduction_factor (got 8), not both"),
                       Error);
  CHECK_THROWS_WITH_AS(r.create("adapter", {{"non_linearity", "tanh"}}),
                       doctest::Contains("non_linearity = 'tanh'; expected relu, gelu or swish"), Error);
  CHECK_THROWS_WITH_AS(r.create("adapter", {{"scaling", "big"}}),
                       doctest::Contains("scaling = \"big\"; expected a number or \"learned\""), Error);
  CHECK_THROWS_WITH_AS(r.create("adapter", {{"scaling", nlohmann::json::array({1})}}),
                       doctest::Contains("expected a number or \"learned\""), Error);
  CHECK_THROWS_WITH_AS(r.create("adapter", {{"init", "xavier"}}),
                       doctest::Contains("init = 'xavier'; expected bert, lora, mam or houlsby"), Error);
  CHECK_THROWS_WITH_AS(r.create("adapter", {{"placement", "ffn"}, {"targets", "ffn.block"}}),
                       doctest::Contains("give either placement"), Error);
  CHECK_THROWS_WITH_AS(r.create("adapter", {{"reduction_factor", 0}}),
                       doctest::Contains("reduction_factor = 0; expected a positive integer"), Error);
  auto model = load_backbone(kModels / "bert" / "model");
  auto on_linear = r.create("adapter", {{"targets", "attn.q"}});
  CHECK_THROWS_WITH_AS(on_linear->attach(model->surface()), doctest::Contains("is not a sublayer site"), Error);
  auto too_narrow = r.create("adapter", {{"reduction_factor", 64}});
  CHECK_THROWS_WITH_AS(too_narrow->attach(model->surface()),
                       doctest::Contains("reduction_factor 64 leaves no bottleneck for hidden size 32"), Error);
}

TEST_CASE("two adapters on the same block site are refused: both claim it") {
  auto model = load_backbone(kModels / "bert" / "model");
  auto first = built_methods().create("adapter", {{"variant", "pfeiffer"}});
  auto second = built_methods().create("adapter", {{"variant", "scaled_parallel"}}, "adapter.2");
  first->attach(model->surface());
  CHECK_THROWS_WITH_AS(second->attach(model->surface()),
                       doctest::Contains("'adapter' and 'adapter.2' both modify adapter of site enc.L0.ffn.block"),
                       Error);
}
