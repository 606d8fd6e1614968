// BERT, RoBERTa and the real all-MiniLM-L6-v2 against HF transformers' outputs on the same inputs.
#include "backbone/backbone.hpp"
#include "backbone/bert.hpp"
#include "backbone/safetensors.hpp"
#include "plugin/method.hpp"
#include "plugin/registry.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace petlab;

namespace {
const fs::path kFixtures = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

/// Encodes the reference inputs and returns the largest difference to HF's last_hidden_state on real tokens.
double encoder_difference(const std::string& name) {
  const SafetensorsFile ref(kFixtures / name / "reference.safetensors");
  auto model = load_backbone(kFixtures / name / "model");
  at::NoGradGuard no_grad;
  const at::Tensor mask = ref.get("attention_mask");
  const auto out = model->encode(ref.get("input_ids"), mask, ref.get("token_type_ids"));
  // Padding positions carry no meaning (HF fills them with whatever attention gives); compare tokens only.
  const at::Tensor keep = mask.unsqueeze(-1).to(at::kFloat);
  return max_abs_diff(out.hidden * keep, ref.get("last_hidden_state") * keep);
}
}  // namespace

TEST_CASE("tiny BERT matches HF transformers") {
  const double diff = encoder_difference("bert");
  MESSAGE("tiny BERT max abs difference: " << diff);
  CHECK(diff <= 1e-4);
}

TEST_CASE("tiny RoBERTa matches HF transformers (positions offset past padding_idx)") {
  const double diff = encoder_difference("roberta");
  MESSAGE("tiny RoBERTa max abs difference: " << diff);
  CHECK(diff <= 1e-4);
}

/// Backpropagates sum(hidden * probe) over real tokens, as the reference did, and returns the largest difference
/// between petlab's gradients and HF's relative to the largest reference gradient of the same parameter.
double gradient_difference(const std::string& name) {
  const SafetensorsFile ref(kFixtures / name / "reference.safetensors");
  auto model = load_backbone(kFixtures / name / "model");
  const at::Tensor mask = ref.get("attention_mask");
  const auto out = model->encode(ref.get("input_ids"), mask, ref.get("token_type_ids"));
  (out.hidden * ref.get("grad_probe") * mask.unsqueeze(-1)).sum().backward();
  double worst = 0.0;
  int compared = 0;
  for (const std::string& key : ref.names()) {
    if (key.rfind("grad.", 0) != 0) continue;
    ++compared;
    const std::string param = key.substr(5);
    CAPTURE(param);
    const auto* p = model->surface().params.find(param);
    REQUIRE(p != nullptr);
    REQUIRE(p->tensor.grad().defined());
    const at::Tensor expected = ref.get(key);
    const double scale = std::max(1e-6, expected.abs().max().item<double>());
    worst = std::max(worst, max_abs_diff(p->tensor.grad(), expected) / scale);
  }
  CHECK(compared == 7);  // scripts/reference/make_tiny_models.py GRADIENT_PARAMETERS
  return worst;
}

TEST_CASE("tiny BERT gradients match HF transformers on a padded batch") {
  const double diff = gradient_difference("bert");
  MESSAGE("tiny BERT largest relative gradient difference: " << diff);
  CHECK(diff <= 1e-4);
}

TEST_CASE("tiny RoBERTa gradients match HF transformers on a padded batch") {
  const double diff = gradient_difference("roberta");
  MESSAGE("tiny RoBERTa largest relative gradient difference: " << diff);
  CHECK(diff <= 1e-4);
}

TEST_CASE("all-MiniLM-L6-v2 matches HF transformers on 200 varied inputs") {
  const SafetensorsFile ref(kFixtures / "minilm" / "reference.safetensors");
  CHECK(ref.get("input_ids").size(0) >= 200);
  const double diff = encoder_difference("minilm");
  MESSAGE("all-MiniLM-L6-v2 max abs difference: " << diff);
  CHECK(diff <= 1e-4);
}

TEST_CASE("a BERT backbone exposes every site of the vocabulary, once, in every layer") {
  auto model = load_backbone(kFixtures / "bert" / "model");
  std::set<std::string> names;
  const auto& sites = model->surface().sites;
  for (SiteId i = 0; i < sites.size(); ++i) names.insert(sites.at(i).name);
  CHECK(names.count("embed") == 1);
  for (int l = 0; l < 2; ++l)
    for (const char* sub : {"attn.q", "attn.k", "attn.v", "attn.o", "attn.kv", "attn.block", "ffn.in", "ffn.act",
                            "ffn.out", "ffn.block"}) {
      const std::string name = "enc.L" + std::to_string(l) + "." + sub;
      CAPTURE(name);
      CHECK(names.count(name) == 1);
    }
  CHECK(names.size() == 1 + 2 * 10);
  const auto q = sites.at(*sites.find("enc.L1.attn.q"));
  CHECK(q.weight == "encoder.layer.1.attention.self.query.weight");
  CHECK(q.in_features == 32);
  CHECK(sites.at(*sites.find("enc.L0.ffn.in")).out_features == 48);
}

TEST_CASE("backbone parameters carry tags that make marking declarative") {
  auto model = load_backbone(kFixtures / "bert" / "model");
  auto& params = model->surface().params;
  const auto* qb = params.find("encoder.layer.0.attention.self.query.bias");
  REQUIRE(qb != nullptr);
  CHECK(qb->has_tag("bias"));
  CHECK(qb->has_tag("attn"));
  CHECK(qb->has_tag("attn.q"));
  CHECK(qb->layer == 0);
  const auto* ln = params.find("encoder.layer.1.output.LayerNorm.weight");
  REQUIRE(ln != nullptr);
  CHECK(ln->has_tag("norm"));
  CHECK(ln->has_tag("ffn"));
  CHECK(params.find("embeddings.word_embeddings.weight")->has_tag("embedding"));
  // Every floating tensor of the module is in the table exactly once (nothing trains unseen).
  CHECK(static_cast<size_t>(model->parameters().size()) == params.all().size());
}

TEST_CASE("training mode applies dropout, evaluation is deterministic, gradients reach the weights") {
  auto model = load_backbone(kFixtures / "bert" / "model");
  const SafetensorsFile ref(kFixtures / "bert" / "reference.safetensors");
  const auto ids = ref.get("input_ids"), mask = ref.get("attention_mask");
  {
    at::NoGradGuard no_grad;
    CHECK(at::equal(model->encode(ids, mask).hidden, model->encode(ids, mask).hidden));
  }
  model->train();
  at::manual_seed(3);
  const auto a = model->encode(ids, mask).hidden;
  CHECK_FALSE(at::allclose(a, model->encode(ids, mask).hidden));
  a.sum().backward();
  CHECK(model->surface().params.find("encoder.layer.0.attention.self.query.weight")->tensor.grad().defined());
}

namespace {
/// A hook that records the shape of its last slot (the output a method would modify).
petlab_status_t record_shape(void* user_data, const petlab_hook_ctx_t* ctx, petlab_error_t*) {
  const auto* out = reinterpret_cast<const at::Tensor*>(ctx->slots[ctx->slot_count - 1]);
  static_cast<std::vector<std::vector<int64_t>>*>(user_data)->push_back(out->sizes().vec());
  return PETLAB_OK;
}
}  // namespace

TEST_CASE("on a padded batch, linear hooks see only the real tokens and block hooks the padded layout") {
  auto model = load_backbone(kFixtures / "bert" / "model");
  const SafetensorsFile ref(kFixtures / "bert" / "reference.safetensors");
  const auto ids = ref.get("input_ids"), mask = ref.get("attention_mask");
  REQUIRE(mask.eq(0).any().item<bool>());
  std::vector<std::vector<int64_t>> linear, activation, block, old_linear;
  auto& sites = model->surface().sites;
  sites.add_hook("enc.L0.attn.q", record_shape, &linear, nullptr, "test", nullptr, HookLayout::token_rows);
  sites.add_hook("enc.L1.ffn.act", record_shape, &activation, nullptr, "test", nullptr, HookLayout::token_rows);
  sites.add_hook("enc.L1.ffn.block", record_shape, &block, nullptr, "test", nullptr, HookLayout::token_rows);
  // A hook of a plugin built against ABI 1.1 was promised [B, T, features] on linear sites.
  sites.add_hook("enc.L1.attn.v", record_shape, &old_linear, nullptr, "test", nullptr, HookLayout::padded);
  at::NoGradGuard no_grad;
  model->encode(ids, mask);
  const int64_t tokens = mask.sum().item<int64_t>();
  CHECK(linear == std::vector<std::vector<int64_t>>{{tokens, 32}});
  CHECK(activation == std::vector<std::vector<int64_t>>{{tokens, 48}});
  CHECK(block == std::vector<std::vector<int64_t>>{{ids.size(0), ids.size(1), 32}});
  CHECK(old_linear == std::vector<std::vector<int64_t>>{{ids.size(0), ids.size(1), 32}});
}

namespace {
/// Adds `delta` to every output element of a linear site, whatever layout it is handed.
petlab_status_t add_delta(void* user_data, const petlab_hook_ctx_t* ctx, petlab_error_t*) {
  auto* out = reinterpret_cast<at::Tensor*>(ctx->slots[1]);
  *out = *out + *static_cast<const double*>(user_data);
  return PETLAB_OK;
}
}  // namespace

TEST_CASE("a linear hook changes the real tokens' hidden states alike in either layout, and padding stays zero") {
  const SafetensorsFile ref(kFixtures / "bert" / "reference.safetensors");
  const auto ids = ref.get("input_ids"), mask = ref.get("attention_mask");
  const double delta = 0.25;
  auto run = [&](HookLayout layout) {
    auto model = load_backbone(kFixtures / "bert" / "model");
    model->surface().sites.add_hook("enc.L0.ffn.out", add_delta, const_cast<double*>(&delta), nullptr, "test",
                                    nullptr, layout);
    at::NoGradGuard no_grad;
    return model->encode(ids, mask).hidden;
  };
  const at::Tensor packed = run(HookLayout::token_rows), padded = run(HookLayout::padded);
  const at::Tensor real = mask.unsqueeze(-1).to(at::kFloat);
  // Independent of either hook layout: adding delta to a linear's outputs is adding it to that linear's bias.
  auto shifted = load_backbone(kFixtures / "bert" / "model");
  at::Tensor expected;
  {
    at::NoGradGuard no_grad;
    shifted->surface().params.find("encoder.layer.0.output.dense.bias")->tensor.add_(delta);
    expected = shifted->encode(ids, mask).hidden;
  }
  CHECK(max_abs_diff(packed * real, expected * real) <= 1e-5);
  CHECK(max_abs_diff(padded * real, expected * real) <= 1e-5);
  CHECK(max_abs_diff(packed * real, padded * real) <= 1e-5);
  CHECK(max_abs_diff(packed * real, ref.get("last_hidden_state") * real) > 1e-3);  // the hook did change them
  CHECK((packed * (1 - real)).abs().max().item<double>() == 0.0);
}

TEST_CASE("plugins built against ABI 1.2 get packed rows on linear sites, plugins built against 1.1 [B, T, F]") {
  MethodRegistry registry;
  registry.load_directories({PETLAB_TEST_LAYOUT_PLUGIN_DIR});
  const SafetensorsFile ref(kFixtures / "bert" / "reference.safetensors");
  const at::Tensor mask = ref.get("attention_mask");
  REQUIRE(mask.eq(0).any().item<bool>());
  for (const auto& [id, rank] : {std::pair{"layout-probe", 2}, std::pair{"layout-probe-v1.1", 3}}) {
    const std::string name = id;
    CAPTURE(name);
    auto model = load_backbone(kFixtures / "bert" / "model");
    auto method = registry.create(name, {{"site", "enc.L1.attn.v"}});
    method->attach(model->surface());
    at::NoGradGuard no_grad;
    const at::Tensor hidden = model->encode(ref.get("input_ids"), mask, ref.get("token_type_ids")).hidden;
    CHECK(model->surface().params.find(name + "/rank")->tensor.item<int>() == rank);
    // Either way the hidden states are HF's: the host packs and unpacks around the old plugin's hook.
    const at::Tensor real = mask.unsqueeze(-1).to(at::kFloat);
    CHECK(max_abs_diff(hidden * real, ref.get("last_hidden_state") * real) <= 1e-4);
  }
}
