// The lora plugin against HF PEFT: adapters PEFT saved load through the converter and give PEFT's outputs,
// adapters petlab writes load in PeftModel.from_pretrained and give ours, trainable counts agree with PEFT's and
// with the closed form, merge is exact, and bad knobs fail with their own messages.
#include "artifacts/artifact.hpp"
#include "methods/peft_parity_support.hpp"
#include "tuning/tuned_model.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace petlab;
using namespace petlab::peft_parity;

namespace {
const fs::path kPeft = fs::path(PETLAB_FIXTURE_DIR) / "peft_lora_ia3";

const PeftConverter& converter() { return peft_parity::converter("lora"); }

const PeftCase kCases[] = {{"minilm-lora", "minilm"},
                           {"minilm-lora-layers", "minilm"},
                           {"t5-v1_0-lora", "t5-v1_0"},
                           {"t5-v1_1-lora", "t5-v1_1"}};

/// Loads the case's PEFT adapter through the converter and compares the outputs with PEFT's.
Comparison peft_to_petlab(const PeftCase& c) {
  auto model = load_backbone(kTiny / c.model / "model");
  const PeftAdapter adapter = read_peft_adapter(kPeft / c.name / "adapter");
  const MethodState state = converter().from_peft(adapter, {model->surface(), model->config()});
  MESSAGE(c.name << ": knobs " << state.knobs.dump());
  auto instance = attach_state(*model, state);
  const SafetensorsFile ref(kPeft / c.name / "reference.safetensors");
  return compare(*model, outputs(*model, ref), ref, ref);
}

/// Seeded random factors: B away from zero, so the update shows.
constexpr Seeded kFactors{2024, 0.0, 0.1};
}  // namespace

TEST_CASE("lora: PEFT adapters load through the converter and match PEFT's outputs") {
  for (const auto& c : kCases) {
    CAPTURE(c.name);
    const Comparison diff = peft_to_petlab(c);
    MESSAGE(c.name << ": " << diff);
    CHECK(diff.vs_peft <= tolerance(diff));
    CHECK(diff.ours_vs_fp64 <= tolerance(diff));
  }
}

TEST_CASE("lora: a PEFT adapter folder loads as a petlab artifact and gives PEFT's outputs") {
  const PeftCase& c = kCases[2];
  auto tuned = load_artifact(kPeft / c.name / "adapter", load_backbone(kTiny / c.model / "model"), registry());
  REQUIRE(tuned->methods().size() == 1);
  CHECK(tuned->methods()[0]->id() == "lora");
  const SafetensorsFile ref(kPeft / c.name / "reference.safetensors");
  const Comparison diff = compare(tuned->backbone(), outputs(tuned->backbone(), ref), ref, ref);
  MESSAGE(c.name << " through load_artifact: " << diff);
  CHECK(diff.vs_peft <= tolerance(diff));
}

TEST_CASE("lora: adapters petlab writes load in PEFT and give petlab's outputs") {
  const std::pair<PeftCase, nlohmann::json> runs[] = {
      {kCases[0], {{"r", 4}, {"alpha", 8}, {"targets", {"attn.q", "attn.v", "ffn.out"}}, {"layers", "1-3"}}},
      {kCases[2], {{"r", 2}, {"alpha", 5.5}, {"targets", {"attn.v", "ffn.in", "xattn.q"}}}},
      {kCases[3], {{"r", 3}, {"alpha", 6}, {"rslora", true}, {"targets", {"attn.o", "ffn.in2", "xattn.k"}},
                   {"layers", "last:1"}}}};
  for (const auto& [c, knobs] : runs) {
    CAPTURE(c.name);
    const Comparison diff = petlab_to_peft("lora", kFactors, kPeft, c, knobs);
    MESSAGE(c.name << " " << knobs.dump() << ": " << diff);
    CHECK(diff.vs_peft <= tolerance(diff));
    CHECK(diff.ours_vs_fp64 <= tolerance(diff));
  }
}

TEST_CASE("lora: trainable parameters equal PEFT's for the same adapters") {
  for (const auto& c : kCases) {
    CAPTURE(c.name);
    auto model = load_backbone(kTiny / c.model / "model");
    model->surface().params.freeze_all();
    const MethodState state = converter().from_peft(read_peft_adapter(kPeft / c.name / "adapter"),
                                                    {model->surface(), model->config()});
    auto instance = registry().create("lora", state.knobs);
    instance->attach(model->surface());
    const int64_t peft = read_json(kPeft / c.name / "counts.json").at("trainable").get<int64_t>();
    MESSAGE(c.name << ": petlab " << method_elements(*model, "lora") << ", PEFT " << peft);
    CHECK(method_elements(*model, "lora") == peft);
    CHECK(model->surface().params.count_elements(/*trainable_only=*/true) == peft);
  }
}

TEST_CASE("lora: r = 8 on q and v of a RoBERTa-base-shaped encoder trains 294,912 parameters") {
  auto model = roberta_base_shape();
  model->surface().params.freeze_all();
  auto instance = registry().create("lora", nullptr);
  instance->attach(model->surface());
  // sum over sites r (in + out) = 12 layers * 2 sites * 8 * (768 + 768)
  CHECK(method_elements(*model, "lora") == 294912);
  CHECK(model->surface().params.count_elements(true) == 294912);
}

TEST_CASE("lora: merge folds the update into the weights and unmerge takes it out, outputs unchanged") {
  for (const std::string name : {"bert", "roberta", "t5-v1_0", "t5-v1_1"}) {
    CAPTURE(name);
    auto model = load_backbone(kTiny / name / "model");
    auto instance = registry().create("lora", {{"r", 3}, {"alpha", 4}, {"targets", {"attn.q", "attn.v", "ffn.out"}}});
    instance->attach(model->surface());
    randomise(*model, "lora", {5, 0.0, 0.2});
    const SafetensorsFile ref(kTiny / name / "reference.safetensors");
    const MergeRoundTrip r = merge_round_trip(*model, *instance, ref);
    CHECK(r.moved > 1e-3);  // the weights really changed: the hooks stepped aside
    MESSAGE(name << ": merged vs hooked " << max_abs_diff(r.merged, r.hooked) << " (relative "
                 << relative_diff(r.merged, r.hooked) << "), unmerged vs hooked " << max_abs_diff(r.unmerged, r.hooked)
                 << ", weights restored to " << r.restored);
    CHECK(relative_diff(r.merged, r.hooked) <= 1e-6);
    CHECK(relative_diff(r.unmerged, r.hooked) <= 1e-6);
    CHECK(r.restored <= 1e-6);
    CHECK_THROWS_WITH_AS(instance->unmerge(model->surface()), doctest::Contains("unmerge called without a merge"), Error);
  }
}

TEST_CASE("lora: kaiming initialisation draws A like PEFT (uniform within 1/sqrt(in)) and B is zero") {
  auto model = load_backbone(kTiny / "bert" / "model");
  at::manual_seed(0);
  auto instance = registry().create("lora", {{"r", 16}});
  instance->attach(model->surface());
  const Parameter* a = model->surface().params.find("lora/enc.L0.attn.q.lora_A");
  const Parameter* b = model->surface().params.find("lora/enc.L0.attn.q.lora_B");
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK((a->tensor.sizes() == at::IntArrayRef({16, 32})));
  CHECK((b->tensor.sizes() == at::IntArrayRef({32, 16})));
  CHECK(b->tensor.abs().max().item<double>() == 0.0);
  const double bound = 1.0 / std::sqrt(32.0);
  CHECK(a->tensor.abs().max().item<double>() <= bound);
  CHECK(a->tensor.abs().max().item<double>() > 0.8 * bound);
}

TEST_CASE("lora: bad knobs and targets fail with their own messages") {
  auto expect_create = [](const nlohmann::json& knobs, const std::string& message) {
    CAPTURE(knobs.dump());
    CHECK_THROWS_WITH_AS(registry().create("lora", knobs), doctest::Contains(message.c_str()), Error);
  };
  expect_create({{"r", 0}}, "r = 0; expected an integer >= 1");
  expect_create({{"alpha", 0}}, "expected a number > 0");
  expect_create({{"dropout", 1.0}}, "expected a value in [0, 1)");
  expect_create({{"init_a", "xavier"}}, "expected kaiming or gaussian");

  auto expect_attach = [](const nlohmann::json& knobs, const std::string& message) {
    CAPTURE(knobs.dump());
    auto model = load_backbone(kTiny / "bert" / "model");
    auto instance = registry().create("lora", knobs);
    CHECK_THROWS_WITH_AS(instance->attach(model->surface()), doctest::Contains(message.c_str()), Error);
  };
  expect_attach({{"targets", {"attn.qq"}}}, "no site matches [attn.qq]");
  expect_attach({{"layers", "7"}}, "index 7 is out of range");
  expect_attach({{"targets", {"attn.q", "attn.kv"}}}, "'enc.L0.attn.kv', which is not a linear site");
  expect_attach({{"targets", {"enc.L0.attn.q"}}, {"layers", "1"}}, "select no site in layers");
}

TEST_CASE("lora: two lora instances on the same site are refused, lora with ia3 composes") {
  auto model = load_backbone(kTiny / "bert" / "model");
  const std::vector<MethodSpec> twice = {{"lora", {}}, {"lora", {{"targets", {"attn.v"}}}}};
  CHECK_THROWS_WITH_AS(std::make_unique<TunedModel>(model, std::nullopt, twice, registry(), 0),
                       doctest::Contains("both modify weight_delta of site enc.L0.attn.v"), Error);
  auto fresh = load_backbone(kTiny / "bert" / "model");
  const std::vector<MethodSpec> lora_and_ia3 = {{"lora", {}}, {"ia3", {{"targets", {"attn.v"}}}}};
  TunedModel both(fresh, std::nullopt, lora_and_ia3, registry(), 0);
  CHECK(both.methods().size() == 2);
}

TEST_CASE("lora: the converter refuses PEFT options it cannot reproduce and keys of unknown modules") {
  auto model = load_backbone(kTiny / "minilm" / "model");
  const PeftModelInfo info{model->surface(), model->config()};
  PeftAdapter dora = read_peft_adapter(kPeft / "minilm-lora" / "adapter");
  dora.config["use_dora"] = true;
  CHECK_THROWS_WITH_AS(converter().from_peft(dora, info), doctest::Contains("use_dora = true is not supported"), Error);
  PeftAdapter pooler = read_peft_adapter(kPeft / "minilm-lora" / "adapter");
  pooler.tensors["base_model.model.pooler.dense.lora_A.weight"] = at::zeros({4, 384});
  CHECK_THROWS_WITH_AS(converter().from_peft(pooler, info), doctest::Contains("module 'pooler.dense', which is not a linear site"),
                       Error);
  PeftAdapter wrong_rank = read_peft_adapter(kPeft / "minilm-lora" / "adapter");
  wrong_rank.config["r"] = 5;
  CHECK_THROWS_WITH_AS(converter().from_peft(wrong_rank, info), doctest::Contains("expected [5, 384]"), Error);
}
