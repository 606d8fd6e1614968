// The prefix plugin against HF PEFT: adapters PEFT saved load through the converter and give PEFT's outputs,
// adapters petlab writes load in PeftModel.from_pretrained and give ours, the MLP reparameterisation equals
// PEFT's prefix_projection and folds into what PEFT saves, trainable counts agree with PEFT's and with the
// closed forms, T5 decoding step by step equals teacher forcing, and bad inputs fail with their own messages.
#include "backbone/t5.hpp"
#include "methods/peft_parity_support.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace petlab;
using namespace petlab::peft_parity;

namespace {
const fs::path kPeft = fs::path(PETLAB_FIXTURE_DIR) / "peft_prefix_prompt";

fs::path model_dir(const std::string& model) {
  return model == "t5-even" ? kPeft / "t5-even" / "model" : kTiny / model / "model";
}

const PeftConverter& converter() { return peft_parity::converter("prefix"); }

/// The instance's saved state: its parameters without the "<instance>/" prefix, transient ones left out.
MethodState saved_state(Backbone& model, const std::string& instance, nlohmann::json knobs) {
  MethodState state{"prefix", std::move(knobs), {}};
  for (const auto& p : model.surface().params.all())
    if (p.owner == instance && !p.has_tag("transient"))
      state.tensors[p.name.substr(instance.size() + 1)] = p.tensor.detach().clone();
  return state;
}

const PeftCase kCases[] = {{"minilm-prefix", "minilm"},
                           {"t5-v1_0-prefix", "t5-v1_0"},
                           {"t5-v1_1-prefix", "t5-v1_1"},
                           {"t5-even-prefix", "t5-even"}};

/// Writes `state` through to_peft, has PeftModel.from_pretrained load it on the case's inputs, returns the
/// largest difference to `ours`.
double peft_outputs_differ(Backbone& model, const std::string& model_name, const MethodState& state,
                           const fs::path& inputs, const at::Tensor& ours) {
  const SafetensorsFile peft =
      peft_check("peft_prefix_prompt.py", "prefix-to-peft-" + model_name,
                 converter().to_peft(state, {model.surface(), model.config()}), model_dir(model_name), inputs);
  return max_abs_diff(ours, peft_outputs(model, peft, SafetensorsFile(inputs)));
}
}  // namespace

TEST_CASE("prefix: PEFT adapters load through the converter and match PEFT's outputs") {
  for (const auto& c : kCases) {
    CAPTURE(c.name);
    auto model = load_backbone(model_dir(c.model));
    const MethodState state =
        converter().from_peft(read_peft_adapter(kPeft / c.name / "adapter"), {model->surface(), model->config()});
    MESSAGE(c.name << ": knobs " << state.knobs.dump());
    auto instance = attach_state(*model, state);
    const SafetensorsFile ref(kPeft / c.name / "reference.safetensors");
    const double diff = max_abs_diff(outputs(*model, ref), peft_outputs(*model, ref, ref));
    MESSAGE(c.name << ": max abs difference to PEFT " << diff << " (tolerance " << tolerance(kPeft / c.name) << ")");
    CHECK(diff <= tolerance(kPeft / c.name));
  }
}

TEST_CASE("prefix: the MLP equals PEFT's prefix_projection, folds into PEFT's saved prefix, and reloads plain") {
  const nlohmann::json knobs = {{"length", 4}, {"mid_dim", 24}};
  auto model = load_backbone(kTiny / "minilm" / "model");
  auto instance = registry().create("prefix", knobs);
  instance->attach(model->surface());
  const SafetensorsFile mlp(kPeft / "minilm-prefix-mlp" / "mlp.safetensors");
  {
    at::NoGradGuard no_grad;
    for (const char* name : {"embedding", "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"}) {
      Parameter* p = model->surface().params.find(std::string("prefix/") + name);
      REQUIRE_MESSAGE(p != nullptr, "no parameter prefix/" << name);
      CHECK(p->has_tag("transient"));
      REQUIRE(p->tensor.sizes() == mlp.get(name).sizes());
      p->tensor.copy_(mlp.get(name));
    }
  }
  const SafetensorsFile ref(kPeft / "minilm-prefix-mlp" / "reference.safetensors");
  const at::Tensor through_mlp = outputs(*model, ref);
  const double to_peft = max_abs_diff(through_mlp, peft_outputs(*model, ref, ref));
  MESSAGE("MLP form: max abs difference to PEFT " << to_peft);
  CHECK(to_peft <= tolerance(kPeft / "minilm-prefix-mlp"));

  // fold() writes the plain prefixes PEFT saved (PEFT saves the MLP's output too).
  const nlohmann::json overrides = instance->fold(model->surface());
  CHECK(overrides == nlohmann::json{{"reparameterize", false}});
  const MethodState peft = converter().from_peft(read_peft_adapter(kPeft / "minilm-prefix-mlp" / "adapter"),
                                                 {model->surface(), model->config()});
  const MethodState folded = saved_state(*model, "prefix", knobs);
  REQUIRE(folded.tensors.size() == peft.tensors.size());
  double fold_diff = 0;
  for (const auto& [name, tensor] : peft.tensors) {
    CAPTURE(name);
    REQUIRE(folded.tensors.count(name) == 1);
    CHECK_FALSE(model->surface().params.find("prefix/" + name)->trainable());
    fold_diff = std::max(fold_diff, max_abs_diff(folded.tensors.at(name), tensor));
  }
  MESSAGE("folded prefixes vs PEFT's saved prompt_embeddings: " << fold_diff);
  CHECK(fold_diff <= kTolerance);
  CHECK(max_abs_diff(outputs(*model, ref), through_mlp) == 0.0);  // folding does not change the forward

  // A fresh attach with the overrides reads the folded values and computes the same outputs.
  nlohmann::json plain = knobs;
  plain.update(overrides);
  auto fresh = load_backbone(kTiny / "minilm" / "model");
  auto reloaded = attach_state(*fresh, MethodState{"prefix", plain, folded.tensors});
  const double reload_diff = max_abs_diff(outputs(*fresh, ref), through_mlp);
  MESSAGE("plain reattach vs MLP form: " << reload_diff);
  CHECK(reload_diff <= 1e-6);

  // A second fold updates the same parameters in place.
  {
    at::NoGradGuard no_grad;
    model->surface().params.find("prefix/mlp.2.bias")->tensor.add_(0.5);
  }
  instance->fold(model->surface());
  const MethodState refolded = saved_state(*model, "prefix", knobs);
  CHECK(refolded.tensors.size() == folded.tensors.size());
  CHECK(max_abs_diff(refolded.tensors.at("enc.L0.attn.kv.key"), folded.tensors.at("enc.L0.attn.kv.key") + 0.5) <= 1e-6);
}

TEST_CASE("prefix: adapters petlab writes load in PEFT and give petlab's outputs") {
  struct Run {
    std::string model;
    std::string inputs;  // fixture case whose reference.safetensors holds the inputs
    nlohmann::json knobs;
  };
  const Run runs[] = {{"minilm", "minilm-prefix", {{"length", 3}, {"mid_dim", 16}}},
                      {"t5-v1_0", "t5-v1_0-prefix", {{"length", 2}, {"reparameterize", false}, {"targets", "dec.L*.attn.kv"}}},
                      {"t5-even", "t5-even-prefix", {{"length", 3}, {"reparameterize", false}, {"targets", "dec.L*.attn.kv"}}}};
  for (const auto& r : runs) {
    CAPTURE(r.model);
    auto model = load_backbone(model_dir(r.model));
    at::manual_seed(2024);
    auto instance = registry().create("prefix", r.knobs);
    instance->attach(model->surface());
    nlohmann::json knobs = r.knobs;
    knobs.update(instance->fold(model->surface()));  // the reparameterised run saves what the MLP gives
    const fs::path inputs = kPeft / r.inputs / "reference.safetensors";
    const at::Tensor ours = outputs(*model, SafetensorsFile(inputs));
    const double diff = peft_outputs_differ(*model, r.model, saved_state(*model, "prefix", knobs), inputs, ours);
    MESSAGE(r.model << " " << r.knobs.dump() << ": max abs difference PEFT vs petlab " << diff);
    CHECK(diff <= tolerance(kPeft / r.inputs));
  }
}

TEST_CASE("prefix: trainable parameters equal PEFT's for the same configurations") {
  const std::pair<std::string, nlohmann::json> runs[] = {
      {"minilm-prefix", nullptr},  // the knobs from_peft gives
      {"minilm-prefix-mlp", {{"length", 4}, {"mid_dim", 24}}},
      {"t5-v1_0-prefix", nullptr},
      {"t5-even-prefix", nullptr}};
  for (const auto& [name, given] : runs) {
    CAPTURE(name);
    const nlohmann::json counts = read_json(kPeft / name / "counts.json");
    auto model = load_backbone(counts.at("model").get<std::string>());
    model->surface().params.freeze_all();
    const nlohmann::json knobs =
        given.is_null()
            ? converter().from_peft(read_peft_adapter(kPeft / name / "adapter"), {model->surface(), model->config()}).knobs
            : given;
    auto instance = registry().create("prefix", knobs);
    instance->attach(model->surface());
    const int64_t peft = counts.at("trainable").get<int64_t>();
    MESSAGE(name << ": petlab " << trainable_elements(*model, "prefix") << ", PEFT " << peft);
    CHECK(trainable_elements(*model, "prefix") == peft);
    CHECK(model->surface().params.count_elements(/*trainable_only=*/true) == peft);
  }
}

TEST_CASE("prefix: default knobs on a RoBERTa-base-shaped encoder train the closed-form counts") {
  // reparameterised: length*hidden + hidden*mid + mid + mid*(layers*2*hidden) + layers*2*hidden
  //   = 30*768 + 768*512 + 512 + 512*(12*2*768) + 12*2*768
  auto model = roberta_base_shape();
  model->surface().params.freeze_all();
  auto mlp = registry().create("prefix", nullptr);
  mlp->attach(model->surface());
  CHECK(trainable_elements(*model, "prefix") == 9872384);
  // plain: layers * 2 * length * hidden = 12 * 2 * 30 * 768
  auto plain_model = roberta_base_shape();
  plain_model->surface().params.freeze_all();
  auto plain = registry().create("prefix", {{"reparameterize", false}});
  plain->attach(plain_model->surface());
  CHECK(trainable_elements(*plain_model, "prefix") == 552960);
}

TEST_CASE("prefix: T5 decoding step by step equals teacher forcing, prefixes on every attention") {
  for (const std::string name : {"t5-v1_0", "t5-v1_1"}) {
    CAPTURE(name);
    auto model = load_backbone(kTiny / name / "model");
    at::manual_seed(7);
    auto instance = registry().create("prefix", {{"length", 3}, {"reparameterize", false},
                                                 {"targets", {"attn.kv", "xattn.kv"}}});
    instance->attach(model->surface());
    auto& t5 = static_cast<T5Model&>(*model);
    const SafetensorsFile ref(kTiny / name / "reference.safetensors");
    at::NoGradGuard no_grad;
    const EncoderOutput encoded = t5.encode(ref.get("input_ids"), ref.get("attention_mask"));
    const at::Tensor ids = ref.get("decoder_input_ids");
    const at::Tensor forced = t5.decode(encoded, ids);
    T5DecoderState state = t5.start_decoding(encoded);
    double diff = 0;
    for (int64_t t = 0; t < ids.size(1); ++t)
      diff = std::max(diff, max_abs_diff(t5.decode_step(state, ids.narrow(1, t, 1)), forced.select(1, t)));
    MESSAGE(name << ": step by step vs teacher forcing " << diff);
    CHECK(diff <= tolerance(kPeft / (name + "-prompt")));  // float32 rounding on this model's logits
  }
}

TEST_CASE("prefix: bad knobs, sites without attention and adapters PEFT cannot express fail clearly") {
  CHECK_THROWS_WITH_AS(registry().create("prefix", {{"length", 0}}), doctest::Contains("length = 0"), Error);
  CHECK_THROWS_WITH_AS(registry().create("prefix", {{"mid_dim", -1}}), doctest::Contains("mid_dim = -1"), Error);
  CHECK_THROWS_WITH_AS(registry().create("prefix", {{"dropout", 1.0}}), doctest::Contains("expected a probability"),
                       Error);
  auto bert = load_backbone(kTiny / "bert" / "model");
  auto linear_only = registry().create("prefix", {{"targets", {"attn.q", "ffn.out"}}});
  CHECK_THROWS_WITH_AS(linear_only->attach(bert->surface()),
                       doctest::Contains("none of the chosen sites is an attention site"), Error);
  auto typo = registry().create("prefix", {{"targets", "attn.kvv"}});
  CHECK_THROWS_WITH_AS(typo->attach(bert->surface()), doctest::Contains("no site matches"), Error);

  // PEFT's prefix on T5 reaches the decoder's self-attention only: the default targets (both stacks) refuse.
  auto t5 = load_backbone(kTiny / "t5-v1_0" / "model");
  auto both = registry().create("prefix", {{"length", 2}, {"reparameterize", false}});
  both->attach(t5->surface());
  CHECK_THROWS_WITH_AS(converter().to_peft(saved_state(*t5, "prefix", {}), {t5->surface(), t5->config()}),
                       doctest::Contains("puts a prefix on exactly [dec.L0.attn.kv"), Error);
  // An unfolded reparameterised state has no prefixes PEFT could read.
  MethodState unfolded{"prefix", {}, {{"embedding", at::zeros({2, 32})}}};
  CHECK_THROWS_WITH_AS(converter().to_peft(unfolded, {t5->surface(), t5->config()}),
                       doctest::Contains("fold before writing"), Error);
  // PEFT itself fails on T5 decoder layers past num_layers.
  PeftAdapter short_adapter = read_peft_adapter(kPeft / "t5-v1_0-prefix" / "adapter");
  short_adapter.config["num_layers"] = 2;
  CHECK_THROWS_WITH_AS(converter().from_peft(short_adapter, {t5->surface(), t5->config()}),
                       doctest::Contains("num_layers = 2, but the model has 3 decoder layers"), Error);
}

TEST_CASE("prefix: two prefixes on the same attention site are refused, naming both") {
  auto model = load_backbone(kTiny / "bert" / "model");
  auto first = registry().create("prefix", {{"length", 2}});
  first->attach(model->surface());
  auto second = registry().create("prefix", {{"length", 2}, {"targets", "enc.L1.attn.kv"}}, "prefix.2");
  CHECK_THROWS_WITH_AS(second->attach(model->surface()),
                       doctest::Contains("methods 'prefix' and 'prefix.2' both modify prefix of site enc.L1.attn.kv"),
                       Error);
}

TEST_CASE("prefix: dropout acts only while training") {
  const SafetensorsFile ref(kTiny / "bert" / "reference.safetensors");
  auto eval_outputs = [&](double dropout) {
    auto model = load_backbone(kTiny / "bert" / "model");
    at::manual_seed(11);
    auto instance = registry().create("prefix", {{"length", 3}, {"reparameterize", false}, {"dropout", dropout}});
    instance->attach(model->surface());
    model->eval();
    return outputs(*model, ref);
  };
  CHECK(max_abs_diff(eval_outputs(0.5), eval_outputs(0.0)) == 0.0);
}
