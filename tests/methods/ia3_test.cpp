// The ia3 plugin against HF PEFT: adapters PEFT saved load through the converter and give PEFT's outputs,
// adapters petlab writes load in PeftModel.from_pretrained and give ours, trainable counts agree with PEFT's and
// with the closed form, merge (output rows, and the FFN output projection's input columns) is exact, and bad
// targets fail with their own messages.
#include "artifacts/artifact.hpp"
#include "artifacts/peft_format.hpp"
#include "backbone/backbone.hpp"
#include "backbone/bert.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "plugin/registry.hpp"
#include "support/run.hpp"

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

/// Encoder states on real tokens, or T5's teacher-forced logits, for the inputs in `in`.
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
/// moves results by about 1e-5.
double relative_diff(const at::Tensor& a, const at::Tensor& b) {
  return max_abs_diff(a, b) / std::max(1.0, b.abs().max().item<double>());
}

/// The same quantity from a file PEFT wrote (float32, or with suffix "_fp64" computed in float64), masked like
/// outputs().
at::Tensor peft_outputs(Backbone& model, const SafetensorsFile& file, const SafetensorsFile& inputs,
                        const std::string& suffix = "") {
  if (model.is_encoder_decoder()) return file.get("logits" + suffix);
  return file.get("last_hidden_state" + suffix) * inputs.get("attention_mask").unsqueeze(-1).to(at::kDouble);
}

/// Our float32 outputs against PEFT's, and how far each is from PEFT's float64 result.
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
  const PeftConverter* c = peft_converter_for_method("ia3");
  REQUIRE_MESSAGE(c != nullptr, "no PEFT converter registered for ia3");
  return *c;
}

int64_t method_elements(Backbone& model) {
  int64_t n = 0;
  for (const auto& p : model.surface().params.all())
    if (p.owner == "ia3") {
      CHECK(p.trainable());
      n += p.tensor.numel();
    }
  return n;
}

struct PeftCase {
  std::string name;   // fixture folder
  std::string model;  // tiny_models folder
};
const PeftCase kCases[] = {{"minilm-ia3", "minilm"}, {"t5-v1_0-ia3", "t5-v1_0"}, {"t5-v1_1-ia3", "t5-v1_1"}};

std::unique_ptr<MethodInstance> attach_peft(Backbone& model, const PeftCase& c, MethodState* out = nullptr) {
  const MethodState state = converter().from_peft(read_peft_adapter(kPeft / c.name / "adapter"),
                                                  {model.surface(), model.config()});
  auto instance = registry().create(state.method, state.knobs);
  instance->attach(model.surface());
  at::NoGradGuard no_grad;
  int64_t created = 0;
  for (const auto& p : model.surface().params.all()) created += p.owner == "ia3";
  CHECK(created == static_cast<int64_t>(state.tensors.size()));
  for (const auto& [name, tensor] : state.tensors) {
    Parameter* p = model.surface().params.find("ia3/" + name);
    REQUIRE_MESSAGE(p != nullptr, "the method did not create " << name);
    REQUIRE(p->tensor.sizes() == tensor.sizes());
    p->tensor.copy_(tensor);
  }
  if (out != nullptr) *out = state;
  return instance;
}

/// Attaches ia3 with `knobs`, sets seeded random vectors, writes them through to_peft and has PEFT load them
/// (PeftModel.from_pretrained in the reference script) and compares the outputs.
Comparison petlab_to_peft(const PeftCase& c, const nlohmann::json& knobs) {
  const fs::path model_dir = kTiny / c.model / "model";
  auto model = load_backbone(model_dir);
  auto instance = registry().create("ia3", knobs);
  instance->attach(model->surface());
  at::manual_seed(2025);
  MethodState state{"ia3", knobs, {}};
  {
    at::NoGradGuard no_grad;
    for (auto& p : model->surface().params.all())
      if (p.owner == "ia3") {
        p.tensor.copy_(1.0 + at::randn_like(p.tensor) * 0.3);
        state.tensors[p.name.substr(std::string("ia3/").size())] = p.tensor.detach().clone();
      }
  }
  const fs::path inputs_file = kPeft / c.name / "reference.safetensors";
  const SafetensorsFile inputs(inputs_file);
  const at::Tensor ours = outputs(*model, inputs);

  const fs::path dir = fs::temp_directory_path() / ("petlab-ia3-to-peft-" + std::to_string(::getpid()) + "-" + c.name);
  fs::remove_all(dir);
  PeftAdapter adapter = converter().to_peft(state, {model->surface(), model->config()});
  adapter.config["base_model_name_or_path"] = model_dir.string();
  write_peft_adapter(dir / "adapter", adapter);
  using testing::shell_quote;
  const auto result = testing::run("HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 " + shell_quote(PETLAB_PYTHON_EXE) + " " +
                                   shell_quote(std::string(PETLAB_REFERENCE_SCRIPTS) + "/peft_lora_ia3.py") +
                                   " --check " + shell_quote((dir / "adapter").string()) + " --model " +
                                   shell_quote(model_dir.string()) + " --inputs " + shell_quote(inputs_file.string()) +
                                   " --out " + shell_quote((dir / "peft.safetensors").string()));
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  const Comparison comparison = compare(*model, ours, SafetensorsFile(dir / "peft.safetensors"), inputs);
  fs::remove_all(dir);
  return comparison;
}

std::shared_ptr<BertEncoder> roberta_base_shape() {
  ModelConfig config{"roberta-base-shape", "roberta", nlohmann::json::object()};
  BertOptions o;
  o.vocab = 8, o.hidden = 768, o.layers = 12, o.heads = 12, o.intermediate = 3072, o.max_positions = 8;
  o.type_vocab = 1, o.pad_id = 1, o.roberta_positions = true;
  return std::make_shared<BertEncoder>(config, o);
}
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
    const Comparison diff = petlab_to_peft(c, knobs);
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
    std::ifstream in(kPeft / c.name / "counts.json");
    const int64_t peft = nlohmann::json::parse(in).at("trainable").get<int64_t>();
    MESSAGE(c.name << ": petlab " << method_elements(*model) << ", PEFT " << peft);
    CHECK(method_elements(*model) == peft);
    CHECK(model->surface().params.count_elements(/*trainable_only=*/true) == peft);
  }
}

TEST_CASE("ia3: k, v and ffn.act of a RoBERTa-base-shaped encoder train 55,296 parameters") {
  auto model = roberta_base_shape();
  model->surface().params.freeze_all();
  auto instance = registry().create("ia3", nullptr);
  instance->attach(model->surface());
  // sum of widths = 12 layers * (768 + 768 + 3072)
  CHECK(method_elements(*model) == 55296);
  CHECK(model->surface().params.count_elements(true) == 55296);
}

TEST_CASE("ia3: merge scales weight rows, biases and FFN input columns, unmerge divides back, outputs unchanged") {
  for (const std::string name : {"bert", "roberta", "t5-v1_0", "t5-v1_1"}) {
    CAPTURE(name);
    auto model = load_backbone(kTiny / name / "model");
    auto instance = registry().create("ia3", {{"targets", {"attn.q", "attn.k", "attn.v", "ffn.act", "ffn.out"}}});
    instance->attach(model->surface());
    std::map<std::string, at::Tensor> before;
    {
      at::NoGradGuard no_grad;
      at::manual_seed(6);
      for (auto& p : model->surface().params.all()) {
        if (p.owner == "ia3") p.tensor.copy_(1.0 + at::randn_like(p.tensor) * 0.3);
        if (p.owner == "backbone") before[p.name] = p.tensor.detach().clone();
      }
    }
    const SafetensorsFile ref(kTiny / name / "reference.safetensors");
    const at::Tensor hooked = outputs(*model, ref);
    instance->merge(model->surface());
    const at::Tensor merged = outputs(*model, ref);
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
