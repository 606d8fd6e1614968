// T5 v1.0 (ReLU, tied head) and v1.1 (gated GELU, untied head) against HF transformers' outputs on the same
// inputs; incremental decoding against teacher forcing; the sites, tags and loading errors of the T5 module.
#include "backbone/backbone.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "core/error.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

namespace fs = std::filesystem;
using namespace petlab;

namespace {
const fs::path kFixtures = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";
const std::string kVersions[] = {"t5-v1_0", "t5-v1_1"};

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }
/// Difference relative to the scale of `b`: two float32 computations of the same logits (v1.1's untied random
/// head gives logits up to ~25) agree to a few ulps of that scale, whatever order they sum in.
double relative_diff(const at::Tensor& a, const at::Tensor& b) {
  return max_abs_diff(a, b) / std::max(1.0, b.abs().max().item<double>());
}

std::shared_ptr<T5Model> load_t5(const fs::path& dir) {
  auto model = std::dynamic_pointer_cast<T5Model>(load_backbone(dir));
  REQUIRE(model != nullptr);
  return model;
}

struct Reference {
  at::Tensor input_ids, attention_mask, last_hidden_state, decoder_input_ids, decoder_attention_mask, logits;
};

Reference reference(const std::string& version) {
  const SafetensorsFile f(kFixtures / version / "reference.safetensors");
  return {f.get("input_ids"),         f.get("attention_mask"),         f.get("last_hidden_state"),
          f.get("decoder_input_ids"), f.get("decoder_attention_mask"), f.get("logits")};
}

at::Tensor& slot(const petlab_hook_ctx_t* ctx, int i) { return *reinterpret_cast<at::Tensor*>(ctx->slots[i]); }

/// A prefix-tuning-like kv hook: prepends fixed keys/values and extends the bias with zeros for them.
struct PrefixHook {
  at::Tensor keys, values;  // [1, heads, P, D]
  static petlab_status_t run(void* self, const petlab_hook_ctx_t* ctx, petlab_error_t*) {
    auto* p = static_cast<PrefixHook*>(self);
    at::Tensor &k = slot(ctx, 0), &v = slot(ctx, 1), &bias = slot(ctx, 2);
    const int64_t B = k.size(0);
    k = at::cat({p->keys.expand({B, -1, -1, -1}), k}, 2);
    v = at::cat({p->values.expand({B, -1, -1, -1}), v}, 2);
    auto sizes = bias.sizes().vec();
    sizes.back() = p->keys.size(2);
    bias = at::cat({at::zeros(sizes, bias.options()), bias}, -1);
    return PETLAB_OK;
  }
};

/// Scales a linear site's output (what IA3 does).
petlab_status_t scale_output(void* factor, const petlab_hook_ctx_t* ctx, petlab_error_t*) {
  slot(ctx, 1) = slot(ctx, 1) * *static_cast<double*>(factor);
  return PETLAB_OK;
}

/// Prepends two soft tokens the mask hides: relative positions among the real tokens do not change.
petlab_status_t prepend_masked_tokens(void*, const petlab_hook_ctx_t* ctx, petlab_error_t*) {
  at::Tensor &h = slot(ctx, 0), &mask = slot(ctx, 1);
  h = at::cat({at::randn({h.size(0), 2, h.size(2)}, h.options()), h}, 1);
  mask = at::cat({at::zeros({mask.size(0), 2}, mask.options()), mask}, 1);
  return PETLAB_OK;
}

/// Feeds the decoder inputs one step at a time; returns the logits stacked as [B, T, V].
at::Tensor decode_incrementally(T5Model& model, const EncoderOutput& encoded, const at::Tensor& ids) {
  T5DecoderState state = model.start_decoding(encoded);
  std::vector<at::Tensor> steps;
  for (int64_t t = 0; t < ids.size(1); ++t) steps.push_back(model.decode_step(state, ids.slice(1, t, t + 1)));
  return at::stack(steps, 1);
}

/// HF decoder inputs are labels shifted right; this recovers the labels (-100 past the known ones).
at::Tensor labels_from(const at::Tensor& decoder_input_ids) {
  return at::cat({decoder_input_ids.slice(1, 1), at::full({decoder_input_ids.size(0), 1}, -100, at::kLong)}, 1);
}

void copy_model(const std::string& version, const fs::path& to,
                const std::function<void(std::map<std::string, at::Tensor>&)>& edit) {
  fs::remove_all(to);
  fs::create_directories(to);
  const fs::path from = kFixtures / version / "model";
  fs::copy_file(from / "config.json", to / "config.json");
  const SafetensorsFile weights(from / "model.safetensors");
  std::map<std::string, at::Tensor> tensors;
  for (const auto& name : weights.names()) tensors[name] = weights.get(name).clone();
  edit(tensors);
  write_safetensors(to / "model.safetensors", tensors);
}
}  // namespace

TEST_CASE("tiny T5 v1.0 and v1.1 match HF transformers: encoder states and teacher-forced logits") {
  for (const std::string& version : kVersions) {
    CAPTURE(version);
    auto model = load_t5(kFixtures / version / "model");
    const Reference ref = reference(version);
    at::NoGradGuard no_grad;
    const EncoderOutput encoded = model->encode(ref.input_ids, ref.attention_mask);
    const double encoder_diff = max_abs_diff(encoded.hidden, ref.last_hidden_state);
    const at::Tensor logits = model->decode(encoded, ref.decoder_input_ids, ref.decoder_attention_mask);
    const double logits_diff = max_abs_diff(logits, ref.logits);
    MESSAGE(version << ": encoder max abs difference " << encoder_diff << ", logits " << logits_diff);
    CHECK(encoder_diff <= 1e-4);
    CHECK(logits_diff <= 1e-4);
    CHECK(logits.sizes() == ref.logits.sizes());
  }
}

TEST_CASE("relative position buckets are HF's at T5's defaults (32 buckets, max distance 128), far and near") {
  // Values of HF transformers' T5Attention._relative_position_bucket for these key - query distances; the tiny
  // models' short inputs never reach max_distance, these do.
  const std::vector<int64_t> distance = {-1000, -129, -128, -127, -100, -64, -33, -17, -16, -15, -9, -8, -7, -1, 0,
                                         1,     2,    7,    8,    9,    15,  16,  17,  33,  64,  100, 127, 128, 129, 1000};
  const std::vector<int64_t> encoder = {15, 15, 15, 15, 15, 14, 12, 10, 10, 9,  8,  8,  7,  1,  0,
                                        17, 18, 23, 24, 24, 25, 26, 26, 28, 30, 31, 31, 31, 31, 31};
  const std::vector<int64_t> decoder = {31, 31, 31, 31, 30, 26, 21, 16, 16, 15, 9, 8, 7, 1, 0,
                                        0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 0, 0, 0, 0};
  const at::Tensor rp = at::tensor(distance);
  CHECK(t5_relative_position_bucket(rp, true, 32, 128).equal(at::tensor(encoder)));
  CHECK(t5_relative_position_bucket(rp, false, 32, 128).equal(at::tensor(decoder)));
}

TEST_CASE("the teacher-forced loss is HF's cross-entropy over the labels, ignoring -100 and pad") {
  for (const std::string& version : kVersions) {
    CAPTURE(version);
    auto model = load_t5(kFixtures / version / "model");
    const Reference ref = reference(version);
    at::NoGradGuard no_grad;
    const EncoderOutput encoded = model->encode(ref.input_ids, ref.attention_mask);
    // Labels padded with pad (0), and the same labels padded with -100, as HF's collators write them.
    const at::Tensor labels = labels_from(ref.decoder_input_ids);
    const at::Tensor ignored = labels.masked_fill(labels.eq(0), -100);
    CHECK(model->shift_right(labels).equal(ref.decoder_input_ids));
    // Every scored position sees only real tokens, where HF's masked logits are the unmasked ones.
    const at::Tensor expected = at::cross_entropy_loss(ref.logits.reshape({-1, ref.logits.size(-1)}),
                                                       ignored.reshape({-1}), {}, at::Reduction::Mean, -100);
    const double with_pad = model->loss(encoded, labels).item<double>();
    const double with_ignore = model->loss(encoded, ignored).item<double>();
    MESSAGE(version << ": loss " << with_pad << " vs HF logits " << expected.item<double>());
    CHECK(std::abs(with_pad - expected.item<double>()) <= 1e-5);
    CHECK(std::abs(with_ignore - expected.item<double>()) <= 1e-5);
  }
}

TEST_CASE("incremental decoding with the KV cache gives the teacher-forced logits step by step") {
  for (const std::string& version : kVersions) {
    CAPTURE(version);
    auto model = load_t5(kFixtures / version / "model");
    const Reference ref = reference(version);
    at::NoGradGuard no_grad;
    const EncoderOutput encoded = model->encode(ref.input_ids, ref.attention_mask);
    const at::Tensor steps = decode_incrementally(*model, encoded, ref.decoder_input_ids);
    const at::Tensor forced = model->decode(encoded, ref.decoder_input_ids);
    const double vs_forced = relative_diff(steps, forced);
    // Against HF on the positions its decoder mask leaves unchanged (every key so far is a real token).
    const at::Tensor real = ref.decoder_attention_mask.unsqueeze(-1).to(at::kFloat);
    const double vs_hf = max_abs_diff(steps * real, ref.logits * real);
    MESSAGE(version << ": incremental vs teacher forcing (relative) " << vs_forced << ", vs HF " << vs_hf);
    CHECK(vs_forced <= 2e-6);
    CHECK(vs_hf <= 1e-4);
  }
}

TEST_CASE("hooks on attn.kv, xattn.kv and linear sites act the same in teacher forcing and with the cache") {
  auto model = load_t5(kFixtures / "t5-v1_1" / "model");
  const Reference ref = reference("t5-v1_1");
  at::NoGradGuard no_grad;
  const EncoderOutput encoded = model->encode(ref.input_ids, ref.attention_mask);
  const at::Tensor plain = model->decode(encoded, ref.decoder_input_ids);

  at::manual_seed(3);
  PrefixHook self_prefix{at::randn({1, 4, 3, 8}), at::randn({1, 4, 3, 8})};
  PrefixHook cross_prefix{at::randn({1, 4, 2, 8}), at::randn({1, 4, 2, 8})};
  double factor = 1.7;
  auto& sites = model->surface().sites;
  sites.add_hook("dec.L1.attn.kv", &PrefixHook::run, &self_prefix, nullptr, "test", nullptr);
  sites.add_hook("dec.L0.xattn.kv", &PrefixHook::run, &cross_prefix, nullptr, "test", nullptr);
  sites.add_hook("dec.L2.attn.k", &scale_output, &factor, nullptr, "test", nullptr);

  const at::Tensor forced = model->decode(encoded, ref.decoder_input_ids);
  CHECK(max_abs_diff(forced, plain) > 1e-2);  // the hooks did something
  const double diff = relative_diff(decode_incrementally(*model, encoded, ref.decoder_input_ids), forced);
  MESSAGE("with hooks: incremental vs teacher forcing (relative) " << diff);
  CHECK(diff <= 2e-6);

  SUBCASE("reordering the cache (beam search) keeps every row consistent with its own prefix") {
    const at::Tensor order = at::tensor(std::vector<int64_t>{2, 0, 4, 4, 1});
    const at::Tensor ids = ref.decoder_input_ids;
    T5DecoderState state = model->start_decoding(encoded);
    for (int64_t t = 0; t < 3; ++t) model->decode_step(state, ids.slice(1, t, t + 1));
    T5Model::reorder(state, order);
    const at::Tensor reordered_ids = ids.index_select(0, order);
    const at::Tensor expected = forced.index_select(0, order);
    for (int64_t t = 3; t < ids.size(1); ++t) {
      const at::Tensor step = model->decode_step(state, reordered_ids.slice(1, t, t + 1));
      CHECK(relative_diff(step, expected.select(1, t)) <= 2e-6);
    }
  }
}

TEST_CASE("soft tokens prepended at embed extend the mask through the encoder and cross-attention") {
  auto model = load_t5(kFixtures / "t5-v1_0" / "model");
  const Reference ref = reference("t5-v1_0");
  at::NoGradGuard no_grad;
  const EncoderOutput plain = model->encode(ref.input_ids, ref.attention_mask);
  const at::Tensor plain_logits = model->decode(plain, ref.decoder_input_ids);
  model->surface().sites.add_hook("embed", &prepend_masked_tokens, nullptr, nullptr, "test", nullptr);
  const EncoderOutput prompted = model->encode(ref.input_ids, ref.attention_mask);
  REQUIRE(prompted.hidden.size(1) == ref.input_ids.size(1) + 2);
  REQUIRE(prompted.attention_mask.size(1) == ref.input_ids.size(1) + 2);
  // Masked soft tokens shift no relative distance between real tokens, so nothing downstream may change.
  CHECK(max_abs_diff(prompted.hidden.slice(1, 2), plain.hidden) <= 1e-5);
  CHECK(max_abs_diff(model->decode(prompted, ref.decoder_input_ids), plain_logits) <= 1e-5);
}

TEST_CASE("a T5 backbone exposes every site of the vocabulary, once, in every layer of both stacks") {
  for (const std::string& version : kVersions) {
    CAPTURE(version);
    const bool gated = version == "t5-v1_1";
    auto model = load_t5(kFixtures / version / "model");
    const auto& sites = model->surface().sites;
    std::set<std::string> names;
    for (SiteId i = 0; i < sites.size(); ++i) names.insert(sites.at(i).name);
    std::vector<std::string> ffn = {"ffn.in", "ffn.act", "ffn.out", "ffn.block"};
    if (gated) ffn.push_back("ffn.in2");
    std::vector<std::string> expected = {"embed"};
    auto layer = [&](const std::string& stack, int i, const std::vector<std::string>& groups) {
      for (const auto& group : groups)
        for (const char* sub : {".q", ".k", ".v", ".o", ".kv", ".block"})
          expected.push_back(stack + ".L" + std::to_string(i) + "." + group + sub);
      for (const auto& sub : ffn) expected.push_back(stack + ".L" + std::to_string(i) + "." + sub);
    };
    for (int i = 0; i < 2; ++i) layer("enc", i, {"attn"});
    for (int i = 0; i < 3; ++i) layer("dec", i, {"attn", "xattn"});
    for (const auto& name : expected) {
      CAPTURE(name);
      CHECK(names.count(name) == 1);
    }
    CHECK(names.size() == expected.size());
    CHECK(names.count("dec.L0.ffn.in2") == (gated ? 1 : 0));

    // Linear sites name their backbone weight, whose shape is [out, in].
    for (SiteId i = 0; i < sites.size(); ++i) {
      const Site& s = sites.at(i);
      if (s.kind != PETLAB_SITE_LINEAR) continue;
      CAPTURE(s.name);
      const auto* w = model->surface().params.find(s.weight);
      REQUIRE(w != nullptr);
      CHECK(w->tensor.sizes() == at::IntArrayRef({s.out_features, s.in_features}));
      CHECK(s.bias.empty());
    }
    CHECK(sites.at(*sites.find("dec.L2.xattn.k")).weight == "decoder.block.2.layer.1.EncDecAttention.k.weight");
    CHECK(sites.at(*sites.find("enc.L1.ffn.out")).weight == "encoder.block.1.layer.1.DenseReluDense.wo.weight");
    CHECK(sites.at(*sites.find("dec.L0.ffn.in")).weight ==
          (gated ? "decoder.block.0.layer.2.DenseReluDense.wi_0.weight" : "decoder.block.0.layer.2.DenseReluDense.wi.weight"));
    const Site& kv = sites.at(*sites.find("dec.L1.xattn.kv"));
    CHECK(kv.kind == PETLAB_SITE_ATTENTION);
    CHECK(kv.num_heads == 4);
    CHECK(kv.head_dim == 8);
    CHECK(sites.at(*sites.find("enc.L0.ffn.act")).out_features == 48);
    CHECK(sites.at(*sites.find("embed")).kind == PETLAB_SITE_EMBED);
  }
}

TEST_CASE("T5 parameters keep their checkpoint names and carry tags: norms are norm, nothing is bias") {
  for (const std::string& version : kVersions) {
    CAPTURE(version);
    const bool tied = version == "t5-v1_0";
    auto model = load_t5(kFixtures / version / "model");
    auto& params = model->surface().params;
    const SafetensorsFile checkpoint(kFixtures / version / "model" / "model.safetensors");
    CHECK(params.all().size() == checkpoint.names().size());  // one parameter per stored tensor
    for (const auto& p : params.all()) {
      CAPTURE(p.name);
      CHECK(checkpoint.contains(p.name));
      CHECK_FALSE(p.has_tag("bias"));
      CHECK(p.has_tag("weight"));
      CHECK(p.has_tag("norm") == (p.name.find("layer_norm") != std::string::npos));
      if (p.name.rfind("encoder.", 0) == 0) CHECK(p.has_tag("enc"));
      if (p.name.rfind("decoder.", 0) == 0) CHECK(p.has_tag("dec"));
      if (p.name.find(".block.") != std::string::npos) {
        const int layer = std::stoi(p.name.substr(p.name.find(".block.") + 7));
        CHECK(p.layer == layer);
      } else {
        CHECK(p.layer == -1);
      }
    }
    CHECK(params.find("shared.weight")->has_tag("embedding"));
    CHECK(params.find("shared.weight")->has_tag("head") == tied);
    CHECK((params.find("lm_head.weight") != nullptr) == !tied);
    const auto* q = params.find("decoder.block.2.layer.1.EncDecAttention.q.weight");
    CHECK((q->has_tag("xattn") && q->has_tag("xattn.q") && !q->has_tag("attn")));
    CHECK(params.find("decoder.block.1.layer.1.layer_norm.weight")->has_tag("xattn"));
    CHECK(params.find("encoder.block.0.layer.1.layer_norm.weight")->has_tag("ffn"));
    CHECK(params.find("encoder.block.1.layer.1.DenseReluDense.wo.weight")->has_tag("ffn.out"));
    CHECK(params.find("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight")->has_tag("attn"));
    CHECK(params.find("encoder.final_layer_norm.weight")->has_tag("norm"));
  }
}

TEST_CASE("in training mode dropout is active and gradients reach every parameter, frozen ones get none") {
  for (const std::string& version : kVersions) {
    CAPTURE(version);
    auto model = load_t5(kFixtures / version / "model");
    const Reference ref = reference(version);
    const at::Tensor labels = labels_from(ref.decoder_input_ids);
    model->train();
    const at::Tensor loss = model->loss(model->encode(ref.input_ids, ref.attention_mask), labels);
    CHECK(loss.item<double>() != model->loss(model->encode(ref.input_ids, ref.attention_mask), labels).item<double>());
    loss.backward();
    for (const auto& p : model->surface().params.all()) {
      CAPTURE(p.name);
      REQUIRE(p.tensor.grad().defined());
      CHECK(p.tensor.grad().abs().sum().item<double>() > 0);
    }

    // A PET run freezes the backbone: only what is marked trainable may receive a gradient.
    model->zero_grad(/*set_to_none=*/true);
    model->surface().params.freeze_all();
    model->surface().params.find("decoder.final_layer_norm.weight")->tensor.requires_grad_(true);
    model->loss(model->encode(ref.input_ids, ref.attention_mask), labels).backward();
    for (const auto& p : model->surface().params.all()) {
      CAPTURE(p.name);
      CHECK(p.tensor.grad().defined() == (p.name == "decoder.final_layer_norm.weight"));
    }
  }
}

TEST_CASE("checkpoint aliases load: embed_tokens without shared.weight, a redundant tied lm_head") {
  const fs::path dir = fs::temp_directory_path() / "petlab-t5-tests" / "aliases";
  copy_model("t5-v1_0", dir, [](auto& tensors) {
    tensors["encoder.embed_tokens.weight"] = tensors["shared.weight"];
    tensors["decoder.embed_tokens.weight"] = tensors["shared.weight"];
    tensors["lm_head.weight"] = tensors["shared.weight"];
    tensors.erase("shared.weight");
  });
  const Reference ref = reference("t5-v1_0");
  auto model = load_t5(dir);
  at::NoGradGuard no_grad;
  const EncoderOutput encoded = model->encode(ref.input_ids, ref.attention_mask);
  CHECK(max_abs_diff(model->decode(encoded, ref.decoder_input_ids, ref.decoder_attention_mask), ref.logits) <= 1e-4);
}

TEST_CASE("a missing, mis-shaped or unexpected T5 tensor is refused with the binder's message naming it") {
  const fs::path root = fs::temp_directory_path() / "petlab-t5-tests";
  SUBCASE("missing") {
    copy_model("t5-v1_1", root / "missing",
               [](auto& t) { t.erase("decoder.block.2.layer.2.DenseReluDense.wi_1.weight"); });
    CHECK_THROWS_WITH_AS(load_backbone(root / "missing"),
                         doctest::Contains("missing tensor 'decoder.block.2.layer.2.DenseReluDense.wi_1.weight' "
                                           "(expected shape [48,32])"),
                         Error);
  }
  SUBCASE("untied head missing") {
    copy_model("t5-v1_1", root / "no-head", [](auto& t) { t.erase("lm_head.weight"); });
    CHECK_THROWS_WITH_AS(load_backbone(root / "no-head"), doctest::Contains("missing tensor 'lm_head.weight'"), Error);
  }
  SUBCASE("mis-shaped") {
    copy_model("t5-v1_0", root / "shape",
               [](auto& t) { t["encoder.block.1.layer.0.SelfAttention.q.weight"] = at::zeros({32, 16}); });
    CHECK_THROWS_WITH_AS(load_backbone(root / "shape"),
                         doctest::Contains("tensor 'encoder.block.1.layer.0.SelfAttention.q.weight' in "
                                           "model.safetensors has shape [32,16], the config implies [32,32]"),
                         Error);
  }
  SUBCASE("unexpected") {
    copy_model("t5-v1_0", root / "unexpected", [](auto& t) {
      t["encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"] = at::zeros({8, 4});
    });
    CHECK_THROWS_WITH_AS(
        load_backbone(root / "unexpected"),
        doctest::Contains("unexpected tensor 'encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight'"),
        Error);
  }
}
