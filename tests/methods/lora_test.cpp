// The lora plugin against HF PEFT: adapters PEFT saved load through the converter and give PEFT's outputs,
// adapters petlab writes load in PeftModel.from_pretrained and give ours, trainable counts agree with PEFT's and
// with the closed form, merge is exact, and bad knobs fail with their own messages.
#include "artifacts/artifact.hpp"
#include "artifacts/peft_format.hpp"
#include "backbone/backbone.hpp"
#include "backbone/bert.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "plugin/registry.hpp"
#include "support/run.hpp"
#include "tuning/tuned_model.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace petlab;

namespace {
const fs::path kTiny = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";
const fs::path kPeft = fs::path(PETLAB_FIXTURE_DIR) / "peft_lora_ia3";
constexpr double kTolerance = 1e-5;

const MethodRegistry& registry() {
  static const MethodRegistry r = [] {
    MethodRegistry loaded;
    loaded.load_directories({PETLAB_PLUGIN_BUILD_DIR});
    return loaded;
  }();
  return r;
}

/// What PEFT's reference compares: encoder states on real tokens, or T5's teacher-forced logits.
at::Tensor outputs(Backbone& model, const SafetensorsFile& in) {
  at::NoGradGuard no_grad;
  const at::Tensor mask = in.get("attention_mask");
  if (model.is_encoder_decoder()) {
    auto& t5 = static_cast<T5Model&>(model);
    return t5.decode(t5.encode(in.get("input_ids"), mask), in.get("decoder_input_ids"), in.get("decoder_attention_mask"));
  }
  const at::Tensor types = in.contains("token_type_ids") ? in.get("token_type_ids") : at::Tensor();
  return model.encode(in.get("input_ids"), mask, types).hidden * mask.unsqueeze(-1).to(at::kFloat);
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

/// Difference relative to the outputs' size: T5 v1.1's untied logits reach |23|, where float32 rounding alone
/// moves results by about 1e-5 (a round trip through merge and unmerge restores weights to 3e-8 and still does).
double relative_diff(const at::Tensor& a, const at::Tensor& b) {
  return max_abs_diff(a, b) / std::max(1.0, b.abs().max().item<double>());
}

/// PEFT's outputs in `file` (float32, or with suffix "_fp64" the same computed in float64), masked like outputs().
at::Tensor peft_outputs(Backbone& model, const SafetensorsFile& file, const SafetensorsFile& inputs,
                        const std::string& suffix = "") {
  if (model.is_encoder_decoder()) return file.get("logits" + suffix);
  return file.get("last_hidden_state" + suffix) * inputs.get("attention_mask").unsqueeze(-1).to(at::kDouble);
}

/// Our float32 outputs against PEFT's, and how far each is from the float64 result: T5 v1.1's logits reach
/// |23|, where float32 rounding alone moves PEFT's own result by about 1e-5.
struct Comparison {
  double vs_peft, ours_vs_fp64, peft_vs_fp64;
};
Comparison compare(Backbone& model, const at::Tensor& ours, const SafetensorsFile& peft, const SafetensorsFile& inputs) {
  const at::Tensor exact = peft_outputs(model, peft, inputs, "_fp64");
  const at::Tensor theirs = peft_outputs(model, peft, inputs);
  return {max_abs_diff(ours, theirs), max_abs_diff(ours, exact), max_abs_diff(theirs, exact)};
}
/// 1e-5, or twice PEFT's own float32 rounding (its distance to the float64 result) where that is larger: two
/// float32 computations that far from the exact result can differ by that much (T5 v1.1's logits reach |23|, and
/// PEFT's own float32 result is 1e-5 to 1.3e-5 away from the exact one there).
double tolerance(const Comparison& c) { return std::max(kTolerance, 2 * c.peft_vs_fp64); }
std::ostream& operator<<(std::ostream& out, const Comparison& c) {
  return out << "max abs difference to PEFT " << c.vs_peft << " (float64 result: petlab " << c.ours_vs_fp64
             << ", PEFT " << c.peft_vs_fp64 << " away)";
}

const PeftConverter& converter() {
  const PeftConverter* c = peft_converter_for_method("lora");
  REQUIRE_MESSAGE(c != nullptr, "no PEFT converter registered for lora");
  return *c;
}

/// Attaches `state` to `model` as the artifact loader would: the returned knobs, then the tensors copied in.
std::unique_ptr<MethodInstance> attach_state(Backbone& model, const MethodState& state) {
  auto instance = registry().create(state.method, state.knobs);
  instance->attach(model.surface());
  int64_t created = 0;
  for (const auto& p : model.surface().params.all()) created += p.owner == instance->id();
  CHECK(created == static_cast<int64_t>(state.tensors.size()));
  at::NoGradGuard no_grad;
  for (const auto& [name, tensor] : state.tensors) {
    Parameter* p = model.surface().params.find(instance->id() + "/" + name);
    REQUIRE_MESSAGE(p != nullptr, "the method did not create " << name);
    REQUIRE(p->tensor.sizes() == tensor.sizes());
    p->tensor.copy_(tensor);
  }
  return instance;
}

int64_t method_elements(Backbone& model, const std::string& owner) {
  int64_t n = 0;
  for (const auto& p : model.surface().params.all())
    if (p.owner == owner) {
      CHECK(p.trainable());
      n += p.tensor.numel();
    }
  return n;
}

struct PeftCase {
  std::string name;   // fixture folder
  std::string model;  // tiny_models folder
};
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

/// Attaches lora with `knobs`, sets seeded random factors, writes them through to_peft and has PEFT load them
/// (PeftModel.from_pretrained in the reference script) and compares the outputs.
Comparison petlab_to_peft(const PeftCase& c, const nlohmann::json& knobs) {
  const fs::path model_dir = kTiny / c.model / "model";
  auto model = load_backbone(model_dir);
  auto instance = registry().create("lora", knobs);
  instance->attach(model->surface());
  at::manual_seed(2024);
  MethodState state{"lora", knobs, {}};
  {
    at::NoGradGuard no_grad;
    for (auto& p : model->surface().params.all())
      if (p.owner == "lora") {
        p.tensor.copy_(at::randn_like(p.tensor) * 0.1);
        state.tensors[p.name.substr(std::string("lora/").size())] = p.tensor.detach().clone();
      }
  }
  const fs::path inputs = kPeft / c.name / "reference.safetensors";
  const at::Tensor ours = outputs(*model, SafetensorsFile(inputs));

  const fs::path dir = fs::temp_directory_path() / ("petlab-lora-to-peft-" + std::to_string(::getpid()) + "-" + c.name);
  fs::remove_all(dir);
  PeftAdapter adapter = converter().to_peft(state, {model->surface(), model->config()});
  adapter.config["base_model_name_or_path"] = model_dir.string();
  write_peft_adapter(dir / "adapter", adapter);
  using testing::shell_quote;
  const auto result = testing::run("HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 " + shell_quote(PETLAB_PYTHON_EXE) + " " +
                                   shell_quote(std::string(PETLAB_REFERENCE_SCRIPTS) + "/peft_lora_ia3.py") +
                                   " --check " + shell_quote((dir / "adapter").string()) + " --model " +
                                   shell_quote(model_dir.string()) + " --inputs " + shell_quote(inputs.string()) +
                                   " --out " + shell_quote((dir / "peft.safetensors").string()));
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  const Comparison comparison = compare(*model, ours, SafetensorsFile(dir / "peft.safetensors"), SafetensorsFile(inputs));
  fs::remove_all(dir);
  return comparison;
}

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file);
  return nlohmann::json::parse(in);
}

/// A RoBERTa-base-shaped encoder (12 layers, hidden 768, 12 heads, FFN 3072) without a checkpoint; the
/// vocabulary is cut to a few rows since no count here depends on it.
std::shared_ptr<BertEncoder> roberta_base_shape() {
  ModelConfig config{"roberta-base-shape", "roberta", nlohmann::json::object()};
  BertOptions o;
  o.vocab = 8, o.hidden = 768, o.layers = 12, o.heads = 12, o.intermediate = 3072, o.max_positions = 8;
  o.type_vocab = 1, o.pad_id = 1, o.roberta_positions = true;
  return std::make_shared<BertEncoder>(config, o);
}
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
    const Comparison diff = petlab_to_peft(c, knobs);
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
    std::map<std::string, at::Tensor> before;
    {
      at::NoGradGuard no_grad;
      at::manual_seed(5);
      for (auto& p : model->surface().params.all()) {
        if (p.owner == "lora") p.tensor.copy_(at::randn_like(p.tensor) * 0.2);
        if (p.owner == "backbone") before[p.name] = p.tensor.detach().clone();
      }
    }
    const SafetensorsFile ref(kTiny / name / "reference.safetensors");
    const at::Tensor hooked = outputs(*model, ref);
    instance->merge(model->surface());
    const at::Tensor merged = outputs(*model, ref);
    double moved = 0;
    for (auto& p : model->surface().params.all())
      if (p.owner == "backbone") moved = std::max(moved, max_abs_diff(p.tensor, before[p.name]));
    CHECK(moved > 1e-3);  // the weights really changed: the hooks stepped aside
    instance->unmerge(model->surface());
    const at::Tensor unmerged = outputs(*model, ref);
    double restored = 0;
    for (auto& p : model->surface().params.all())
      if (p.owner == "backbone") restored = std::max(restored, max_abs_diff(p.tensor, before[p.name]));
    MESSAGE(name << ": merged vs hooked " << max_abs_diff(merged, hooked) << " (relative "
                              << relative_diff(merged, hooked) << "), unmerged vs hooked " << max_abs_diff(unmerged, hooked)
                              << ", weights restored to " << restored);
    CHECK(relative_diff(merged, hooked) <= 1e-6);
    CHECK(relative_diff(unmerged, hooked) <= 1e-6);
    CHECK(restored <= 1e-6);
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
