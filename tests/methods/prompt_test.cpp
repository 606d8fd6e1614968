// The prompt plugin against HF PEFT: adapters PEFT saved load through the converter and give PEFT's outputs
// (soft tokens included), adapters petlab writes load in PeftModel.from_pretrained and give ours, the three
// initialisations, trainable counts against PEFT's and the closed form, and bad knobs.
#include "artifacts/peft_format.hpp"
#include "backbone/backbone.hpp"
#include "backbone/bert.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "plugin/registry.hpp"
#include "support/run.hpp"
#include "tokenizer/tokenizer.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace petlab;

namespace {
const fs::path kTiny = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";
const fs::path kPeft = fs::path(PETLAB_FIXTURE_DIR) / "peft_prefix_prompt";
constexpr double kTolerance = 1e-5;
constexpr const char* kPromptText = "Classify the sentiment of this review.";  // as peft_prefix_prompt.py

const MethodRegistry& registry() {
  static const MethodRegistry r = [] {
    MethodRegistry loaded;
    loaded.load_directories({PETLAB_PLUGIN_BUILD_DIR});
    return loaded;
  }();
  return r;
}

const PeftConverter& converter() {
  const PeftConverter* c = peft_converter_for_method("prompt");
  REQUIRE_MESSAGE(c != nullptr, "no PEFT converter registered for prompt");
  return *c;
}

/// Encoder states at every position the encoder returns (soft tokens first, padding zeroed), or T5's
/// teacher-forced logits.
at::Tensor outputs(Backbone& model, const SafetensorsFile& in) {
  at::NoGradGuard no_grad;
  const at::Tensor mask = in.get("attention_mask");
  if (model.is_encoder_decoder()) {
    auto& t5 = static_cast<T5Model&>(model);
    return t5.decode(t5.encode(in.get("input_ids"), mask), in.get("decoder_input_ids"), in.get("decoder_attention_mask"));
  }
  const EncoderOutput out = model.encode(in.get("input_ids"), mask, in.get("token_type_ids"));
  return out.hidden * out.attention_mask.unsqueeze(-1).to(at::kFloat);
}

/// PEFT's encoder states [B, P+T, H] with the soft tokens' rows kept and padding zeroed, or T5's logits.
at::Tensor reference(Backbone& model, const at::Tensor& peft_output, const at::Tensor& mask) {
  if (model.is_encoder_decoder()) return peft_output;
  const int64_t added = peft_output.size(1) - mask.size(1);
  const at::Tensor full = at::cat({at::ones({mask.size(0), added}, mask.options()), mask}, 1);
  return peft_output * full.unsqueeze(-1).to(at::kFloat);
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file);
  return nlohmann::json::parse(in);
}

/// 1e-5, or twice PEFT's own float32 rounding on the case's outputs when that is larger (tiny T5 v1.1's logits
/// reach 24, where PEFT's float32 logits are about 1.1e-5 from its float64 ones).
double tolerance(const std::string& fixture_case) {
  const double noise = read_json(kPeft / fixture_case / "counts.json").at("float32_noise").get<double>();
  return std::max(kTolerance, 2 * noise);
}

std::unique_ptr<MethodInstance> attach_state(Backbone& model, const MethodState& state) {
  auto instance = registry().create(state.method, state.knobs);
  instance->attach(model.surface());
  at::NoGradGuard no_grad;
  for (const auto& [name, tensor] : state.tensors) {
    Parameter* p = model.surface().params.find(instance->id() + "/" + name);
    REQUIRE_MESSAGE(p != nullptr, "the method did not create " << name);
    REQUIRE(p->tensor.sizes() == tensor.sizes());
    p->tensor.copy_(tensor);
  }
  return instance;
}

int64_t trainable_elements(Backbone& model, const std::string& owner) {
  int64_t n = 0;
  for (const auto& p : model.surface().params.all())
    if (p.owner == owner && p.trainable()) n += p.tensor.numel();
  return n;
}

at::Tensor prompt_of(Backbone& model) {
  Parameter* p = model.surface().params.find("prompt/embedding");
  REQUIRE_MESSAGE(p != nullptr, "no prompt/embedding parameter");
  return p->tensor.detach();
}

struct PeftCase {
  std::string name;   // fixture folder
  std::string model;  // tiny_models folder
};
const PeftCase kCases[] = {{"minilm-prompt", "minilm"},
                           {"minilm-prompt-text", "minilm"},
                           {"t5-v1_0-prompt", "t5-v1_0"},
                           {"t5-v1_1-prompt", "t5-v1_1"}};

std::shared_ptr<BertEncoder> roberta_base_shape() {
  ModelConfig config{"roberta-base-shape", "roberta", nlohmann::json::object()};
  BertOptions o;
  o.vocab = 8, o.hidden = 768, o.layers = 12, o.heads = 12, o.intermediate = 3072, o.max_positions = 8;
  o.type_vocab = 1, o.pad_id = 1, o.roberta_positions = true;
  return std::make_shared<BertEncoder>(config, o);
}
}  // namespace

TEST_CASE("prompt: PEFT adapters load through the converter and match PEFT's outputs") {
  for (const auto& c : kCases) {
    CAPTURE(c.name);
    auto model = load_backbone(kTiny / c.model / "model");
    const MethodState state =
        converter().from_peft(read_peft_adapter(kPeft / c.name / "adapter"), {model->surface(), model->config()});
    MESSAGE(c.name << ": knobs " << state.knobs.dump());
    auto instance = attach_state(*model, state);
    const SafetensorsFile ref(kPeft / c.name / "reference.safetensors");
    const at::Tensor peft = ref.contains("logits") ? ref.get("logits") : ref.get("last_hidden_state");
    const at::Tensor ours = outputs(*model, ref);
    REQUIRE(ours.sizes() == peft.sizes());
    const double diff = max_abs_diff(ours, reference(*model, peft, ref.get("attention_mask")));
    MESSAGE(c.name << ": max abs difference to PEFT " << diff << " (tolerance " << tolerance(c.name) << ")");
    CHECK(diff <= tolerance(c.name));
  }
}

TEST_CASE("prompt: adapters petlab writes load in PEFT and give petlab's outputs") {
  const std::pair<std::string, std::string> runs[] = {
      {"minilm", "minilm-prompt"}, {"t5-v1_0", "t5-v1_0-prompt"}, {"t5-v1_1", "t5-v1_1-prompt"}};
  for (const auto& [name, inputs_case] : runs) {
    CAPTURE(name);
    const fs::path model_dir = kTiny / name / "model";
    auto model = load_backbone(model_dir);
    at::manual_seed(2024);
    const nlohmann::json knobs = {{"length", 7}, {"init", "vocab_sample"}};
    auto instance = registry().create("prompt", knobs);
    instance->attach(model->surface());
    {
      at::NoGradGuard no_grad;
      prompt_of(*model).add_(at::randn_like(prompt_of(*model)) * 0.1);  // away from the vocabulary rows
    }
    const fs::path inputs = kPeft / inputs_case / "reference.safetensors";
    const at::Tensor ours = outputs(*model, SafetensorsFile(inputs));

    const fs::path dir = fs::temp_directory_path() / ("petlab-prompt-to-peft-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir);
    PeftAdapter adapter =
        converter().to_peft(MethodState{"prompt", knobs, {{"embedding", prompt_of(*model).clone()}}},
                            {model->surface(), model->config()});
    adapter.config["base_model_name_or_path"] = model_dir.string();
    write_peft_adapter(dir / "adapter", adapter);
    using testing::shell_quote;
    const auto result = testing::run("HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 " + shell_quote(PETLAB_PYTHON_EXE) +
                                     " " + shell_quote(std::string(PETLAB_REFERENCE_SCRIPTS) + "/peft_prefix_prompt.py") +
                                     " --check " + shell_quote((dir / "adapter").string()) + " --model " +
                                     shell_quote(model_dir.string()) + " --inputs " + shell_quote(inputs.string()) +
                                     " --out " + shell_quote((dir / "peft.safetensors").string()));
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    const SafetensorsFile peft(dir / "peft.safetensors");
    const at::Tensor theirs = model->is_encoder_decoder() ? peft.get("logits") : peft.get("last_hidden_state");
    const double diff =
        max_abs_diff(ours, reference(*model, theirs, SafetensorsFile(inputs).get("attention_mask")));
    fs::remove_all(dir);
    MESSAGE(name << ": max abs difference PEFT vs petlab " << diff);
    CHECK(diff <= tolerance(inputs_case));
  }
}

TEST_CASE("prompt: trainable parameters equal PEFT's where PEFT allocates what it uses") {
  for (const auto& c : kCases) {
    CAPTURE(c.name);
    auto model = load_backbone(kTiny / c.model / "model");
    model->surface().params.freeze_all();
    const PeftAdapter adapter = read_peft_adapter(kPeft / c.name / "adapter");
    auto instance = registry().create("prompt", converter().from_peft(adapter, {model->surface(), model->config()}).knobs);
    instance->attach(model->surface());
    const int64_t ours = trainable_elements(*model, "prompt");
    const int64_t peft = read_json(kPeft / c.name / "counts.json").at("trainable").get<int64_t>();
    const int64_t submodules = adapter.config.value("num_transformer_submodules", 1);
    MESSAGE(c.name << ": petlab " << ours << ", PEFT " << peft << " (num_transformer_submodules " << submodules << ")");
    // With two submodules (PEFT's seq2seq default) PEFT allocates a second set of rows it never reads.
    CHECK(ours * submodules == peft);
    CHECK(model->surface().params.count_elements(/*trainable_only=*/true) == ours);
  }
}

TEST_CASE("prompt: 20 soft tokens on a RoBERTa-base-shaped encoder train length * hidden = 15,360 parameters") {
  auto model = roberta_base_shape();
  model->surface().params.freeze_all();
  auto instance = registry().create("prompt", nullptr);
  instance->attach(model->surface());
  CHECK(trainable_elements(*model, "prompt") == 15360);
}

TEST_CASE("prompt: init text takes the token embeddings PEFT's TEXT init takes") {
  auto model = load_backbone(kTiny / "minilm" / "model");
  const auto tokenizer = tok::load_tokenizer(kTiny / "minilm" / "model");
  model->surface().tokenizer = tokenizer.get();
  auto instance = registry().create("prompt", {{"length", 20}, {"init", "text"}, {"init_text", kPromptText}});
  instance->attach(model->surface());
  const at::Tensor peft = read_peft_adapter(kPeft / "minilm-prompt-text" / "adapter").tensors.at("prompt_embeddings");
  REQUIRE(prompt_of(*model).sizes() == peft.sizes());
  CHECK(max_abs_diff(prompt_of(*model), peft) == 0.0);
}

TEST_CASE("prompt: init vocab_sample takes rows of the word embedding, drawn from the init seed") {
  auto draw = [](uint64_t seed) {
    auto model = load_backbone(kTiny / "bert" / "model");
    at::manual_seed(seed);
    auto instance = registry().create("prompt", {{"length", 6}, {"init", "vocab_sample"}});
    instance->attach(model->surface());
    const at::Tensor words = model->surface().params.find("embeddings.word_embeddings.weight")->tensor.detach();
    const at::Tensor prompt = prompt_of(*model).clone();
    // Every prompt row is exactly some vocabulary row.
    CHECK(prompt.unsqueeze(1).eq(words.unsqueeze(0)).all(-1).any(1).all().item<bool>());
    return prompt;
  };
  CHECK(max_abs_diff(draw(3), draw(3)) == 0.0);
  CHECK(max_abs_diff(draw(3), draw(4)) > 0.0);
}

TEST_CASE("prompt: init random draws N(0, 1) like PEFT's embedding") {
  auto model = load_backbone(kTiny / "minilm" / "model");
  at::manual_seed(0);
  auto instance = registry().create("prompt", {{"length", 20}});
  instance->attach(model->surface());
  const at::Tensor prompt = prompt_of(*model);
  CHECK(prompt.sizes() == at::IntArrayRef({20, 384}));
  CHECK(std::abs(prompt.mean().item<double>()) < 0.05);
  CHECK(std::abs(prompt.std().item<double>() - 1.0) < 0.05);
}

TEST_CASE("prompt: bad knobs and a text init without a tokenizer fail clearly") {
  CHECK_THROWS_WITH_AS(registry().create("prompt", {{"length", 0}}), doctest::Contains("length = 0"), Error);
  CHECK_THROWS_WITH_AS(registry().create("prompt", {{"init", "text"}}),
                       doctest::Contains("init = text needs a non-empty init_text"), Error);
  CHECK_THROWS_WITH_AS(registry().create("prompt", {{"init", "zeros"}}),
                       doctest::Contains("expected random, vocab_sample or text"), Error);
  auto model = load_backbone(kTiny / "bert" / "model");  // the surface has no tokenizer
  auto text = registry().create("prompt", {{"init", "text"}, {"init_text", "hello"}});
  CHECK_THROWS_WITH_AS(text->attach(model->surface()), doctest::Contains("tokenizer"), Error);
}
