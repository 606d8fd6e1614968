// BERT, RoBERTa and the real all-MiniLM-L6-v2 against HF transformers' outputs on the same inputs.
#include "backbone/backbone.hpp"
#include "backbone/bert.hpp"
#include "backbone/safetensors.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <set>

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
