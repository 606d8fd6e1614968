// The ia3 plugin against HF PEFT: adapters PEFT saved load through the converter and give PEFT's outputs,
// adapters petlab writes load in PeftModel.from_pretrained and give ours, trainable counts agree with PEFT's and
// with the closed form, merge (output rows, and the FFN output projection's input columns) is exact, and bad
// targets fail with their own messages.
#include "artifacts/artifact.hpp"
#include "methods/peft_parity_support.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace petlab;
using namespace petlab::peft_parity;

namespace {
const fs::path kPeft = fs::path(PETLAB_FIXTURE_DIR) / "peft_lora_ia3";

const PeftConverter& converter() { return peft_parity::converter("ia3"); }

const PeftCase kCases[] = {{"minilm-ia3", "minilm"}, {"t5-v1_0-ia3", "t5-v1_0"}, {"t5-v1_1-ia3", "t5-v1_1"}};

std::unique_ptr<MethodInstance> attach_peft(Backbone& model, const PeftCase& c, MethodState* out = nullptr) {
  const MethodState state = converter().from_peft(read_peft_adapter(kPeft / c.name / "adapter"),
                                                  {model.surface(), model.config()});
  auto instance = attach_state(model, state);
  if (out != nullptr) *out = state;
  return instance;
}

/// Seeded random vectors away from one, so the scaling shows.
constexpr Seeded kVectors{2025, 1.0, 0.3};
}  // namespace

TEST_CASE("ia3: PEFT adapters load through the converter and match PEFT's outputs") {
  for (const auto& c : kCases) {
    CAPTURE(c.name);
    auto model = load_backbone(kTiny / c.model / "model");
    MethodState state;
    auto instance = attach_peft(*model, c, &state);
    MESSAGE(c.name << ": knobs " << state.knobs.dump());
    const SafetensorsFile ref(kPeft / c.name / "reference.safetensors");
    const Comparison diff = compare(*model, outputs(*model, ref), ref, ref);
    MESSAGE(c.name << ": " << diff);
    CHECK(diff.vs_peft <= tolerance(diff));
    CHECK(diff.ours_vs_fp64 <= tolerance(diff));
  }
}

TEST_CASE("ia3: the converter maps PEFT's feedforward vectors to ffn.act and the rest to linear sites") {
  auto model = load_backbone(kTiny / "minilm" / "model");
  const MethodState state = converter().from_peft(read_peft_adapter(kPeft / "minilm-ia3" / "adapter"),
                                                  {model->surface(), model->config()});
  CHECK(state.knobs.at("targets") == nlohmann::json({"attn.k", "attn.v", "ffn.act"}));
  CHECK(state.tensors.count("enc.L0.ffn.act.ia3") == 1);
  CHECK(state.tensors.at("enc.L0.ffn.act.ia3").numel() == 1536);
  CHECK(state.tensors.count("enc.L5.attn.v.ia3") == 1);
  CHECK(state.tensors.count("enc.L0.attn.o.ia3") == 0);  // attention.output.dense stays untouched
}

TEST_CASE("ia3: a PEFT adapter folder loads as a petlab artifact and gives PEFT's outputs") {
  const PeftCase& c = kCases[1];
  auto tuned = load_artifact(kPeft / c.name / "adapter", load_backbone(kTiny / c.model / "model"), registry());
  REQUIRE(tuned->methods().size() == 1);
  CHECK(tuned->methods()[0]->id() == "ia3");
  const SafetensorsFile ref(kPeft / c.name / "reference.safetensors");
  const Comparison diff = compare(tuned->backbone(), outputs(tuned->backbone(), ref), ref, ref);
  MESSAGE(c.name << " through load_artifact: " << diff);
  CHECK(diff.vs_peft <= tolerance(diff));
}

TEST_CASE("ia3: adapters petlab writes load in PEFT and give petlab's outputs") {
  const std::pair<PeftCase, nlohmann::json> runs[] = {
      {kCases[0], {{"layers", "2-4"}}},
      {kCases[1], {{"targets", {"attn.q", "ffn.act", "xattn.o"}}}},
      {kCases[2], {{"layers", "0"}}}};
  for (const auto& [c, knobs] : runs) {
    CAPTURE(c.name);
    const Comparison diff = petlab_to_peft("ia3", kVectors, kPeft, c, knobs);
    MESSAGE(c.name << " " << knobs.dump() << ": " << diff);
    CHECK(diff.vs_peft <= tolerance(diff));
    CHECK(diff.ours_vs_fp64 <= tolerance(diff));
  }
}

TEST_CASE("ia3: trainable parameters equal PEFT's for the same adapters") {
  for (const auto& c : kCases) {
    CAPTURE(c.name);
    auto model = load_backbone(kTiny / c.model / "model");
    model->surface().params.freeze_all();
    auto instance = attach_peft(*model, c);
    const int64_t peft = read_json(kPeft / c.name / "counts.json").at("trainable").get<int64_t>();
    MESSAGE(c.name << ": petlab " << method_elements(*model, "ia3") << ", PEFT " << peft);
    CHECK(method_elements(*model, "ia3") == peft);
    CHECK(model->surface().params.count_elements(/*trainable_only=*/true) == peft);
  }
}

TEST_CASE("ia3: k, v and ffn.act of a RoBERTa-base-shaped encoder train 55,296 parameters") {
  auto model = roberta_base_shape();
  model->surface().params.freeze_all();
  auto instance = registry().create("ia3", nullptr);
  instance->attach(model->surface());
  // sum of widths = 12 layers * (768 + 768 + 3072)
  CHECK(method_elements(*model, "ia3") == 55296);
  CHECK(model->surface().params.count_elements(true) == 55296);
}

TEST_CASE("ia3: merge scales weight rows, biases and FFN input columns, unmerge divides back, outputs unchanged") {
  for (const std::string name : {"bert", "roberta", "t5-v1_0", "t5-v1_1"}) {
    CAPTURE(name);
    auto model = load_backbone(kTiny / name / "model");
    auto instance = registry().create("ia3", {{"targets", {"attn.q", "attn.k", "attn.v", "ffn.act", "ffn.out"}}});
    instance->attach(model->surface());
    randomise(*model, "ia3", {6, 1.0, 0.3});
    const SafetensorsFile ref(kTiny / name / "reference.safetensors");
    const MergeRoundTrip r = merge_round_trip(*model, *instance, ref);
    MESSAGE(name << ": merged vs hooked " << max_abs_diff(r.merged, r.hooked) << " (relative "
                 << relative_diff(r.merged, r.hooked) << "), unmerged vs hooked " << max_abs_diff(r.unmerged, r.hooked)
                 << ", weights restored to " << r.restored);
    CHECK(relative_diff(r.merged, r.hooked) <= 1e-6);
    CHECK(relative_diff(r.unmerged, r.hooked) <= 1e-6);
    CHECK(r.restored <= 1e-6);
  }
}

TEST_CASE("ia3: bad targets and layers fail with their own messages") {
  auto expect_attach = [](const nlohmann::json& knobs, const std::string& message) {
    CAPTURE(knobs.dump());
    auto model = load_backbone(kTiny / "t5-v1_1" / "model");
    auto instance = registry().create("ia3", knobs);
    CHECK_THROWS_WITH_AS(instance->attach(model->surface()), doctest::Contains(message.c_str()), Error);
  };
  expect_attach({{"targets", {"ffn.activation"}}}, "no site matches [ffn.activation]");
  expect_attach({{"layers", "3"}}, "index 3 is out of range");
  expect_attach({{"targets", {"attn.kv"}}}, "'enc.L0.attn.kv', which is neither a linear nor an activation site");
  expect_attach({{"targets", {"ffn.block"}}}, "'enc.L0.ffn.block', which is neither a linear nor an activation site");
  CHECK_THROWS_WITH_AS(registry().create("ia3", {{"targets", nlohmann::json::array()}}),
                       doctest::Contains("targets is empty"), Error);
}

TEST_CASE("ia3: the converter refuses input scales it cannot express and vectors of the wrong width") {
  auto model = load_backbone(kTiny / "minilm" / "model");
  const PeftModelInfo info{model->surface(), model->config()};
  PeftAdapter query_input = read_peft_adapter(kPeft / "minilm-ia3" / "adapter");
  query_input.tensors["base_model.model.encoder.layer.0.attention.self.query.ia3_l"] = at::ones({1, 384});
  CHECK_THROWS_WITH_AS(converter().from_peft(query_input, info), doctest::Contains("scales inputs only of the FFN output"),
                       Error);
  PeftAdapter wrong = read_peft_adapter(kPeft / "minilm-ia3" / "adapter");
  wrong.tensors["base_model.model.encoder.layer.0.attention.self.key.ia3_l"] = at::ones({100, 1});
  CHECK_THROWS_WITH_AS(converter().from_peft(wrong, info), doctest::Contains("expected [384, 1]"), Error);
}
