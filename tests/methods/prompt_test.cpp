// The prompt plugin against HF PEFT: adapters PEFT saved load through the converter and give PEFT's outputs
// (soft tokens included), adapters petlab writes load in PeftModel.from_pretrained and give ours, the three
// initialisations, trainable counts against PEFT's and the closed form, and bad knobs.
#include "methods/peft_parity_support.hpp"
#include "tokenizer/tokenizer.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace petlab;
using namespace petlab::peft_parity;

namespace {
const fs::path kPeft = fs::path(PETLAB_FIXTURE_DIR) / "peft_prefix_prompt";
constexpr const char* kPromptText = "Classify the sentiment of this review.";  // as peft_prefix_prompt.py

const PeftConverter& converter() { return peft_parity::converter("prompt"); }

at::Tensor prompt_of(Backbone& model) {
  Parameter* p = model.surface().params.find("prompt/embedding");
  REQUIRE_MESSAGE(p != nullptr, "no prompt/embedding parameter");
  return p->tensor.detach();
}

const PeftCase kCases[] = {{"minilm-prompt", "minilm"},
                           {"minilm-prompt-text", "minilm"},
                           {"t5-v1_0-prompt", "t5-v1_0"},
                           {"t5-v1_1-prompt", "t5-v1_1"}};
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
    const double diff = max_abs_diff(ours, peft_outputs(*model, ref, ref));
    MESSAGE(c.name << ": max abs difference to PEFT " << diff << " (tolerance " << tolerance(kPeft / c.name) << ")");
    CHECK(diff <= tolerance(kPeft / c.name));
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
    const SafetensorsFile peft = peft_check(
        "peft_prefix_prompt.py", "prompt-to-peft-" + name,
        converter().to_peft(MethodState{"prompt", knobs, {{"embedding", prompt_of(*model).clone()}}},
                            {model->surface(), model->config()}),
        model_dir, inputs);
    const double diff = max_abs_diff(ours, peft_outputs(*model, peft, SafetensorsFile(inputs)));
    MESSAGE(name << ": max abs difference PEFT vs petlab " << diff);
    CHECK(diff <= tolerance(kPeft / inputs_case));
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
