// Encoder heads: output shapes per kind, trainable and tagged, BERT-style on a pooler, RoBERTa-style without.
#include "backbone/backbone.hpp"
#include "backbone/heads.hpp"
#include "backbone/safetensors.hpp"
#include "core/error.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace petlab;

namespace {
const fs::path kFixtures = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";

struct Loaded {
  std::shared_ptr<Backbone> model;
  at::Tensor ids, mask;
};
Loaded load(const std::string& name) {
  const SafetensorsFile ref(kFixtures / name / "reference.safetensors");
  auto model = load_backbone(kFixtures / name / "model");
  model->surface().params.freeze_all();
  return {model, ref.get("input_ids"), ref.get("attention_mask")};
}
}  // namespace

TEST_CASE("classification and regression heads give one row per input") {
  auto [model, ids, mask] = load("bert");
  EncoderHead cls(*model, {.kind = HeadKind::classification, .num_labels = 3});
  cls.eval();
  CHECK(cls.forward(model->encode(ids, mask)).sizes() == at::IntArrayRef({ids.size(0), 3}));
  // One head per backbone: a second one is refused rather than silently sharing names.
  CHECK_THROWS_WITH_AS(EncoderHead(*model, {.kind = HeadKind::regression}), doctest::Contains("already exists"), Error);
  auto other = load("bert").model;
  EncoderHead reg(*other, {.kind = HeadKind::regression});
  CHECK(reg.forward(other->encode(ids, mask)).sizes() == at::IntArrayRef({ids.size(0)}));
}

TEST_CASE("a multiple-choice head scores each choice of each question") {
  auto [model, ids, mask] = load("roberta");
  EncoderHead mc(*model, {.kind = HeadKind::multiple_choice});
  // 5 rows = 1 question with 5 choices.
  CHECK(mc.forward(model->encode(ids, mask), 5).sizes() == at::IntArrayRef({1, 5}));
}

TEST_CASE("head parameters are trainable, tagged head and owned by the head, and the frozen backbone gets no gradient") {
  auto [model, ids, mask] = load("bert");  // the tiny BERT checkpoint has a pooler: BERT-style head
  EncoderHead head(*model, {.num_labels = 2});
  int head_params = 0;
  for (const auto& p : model->surface().params.all())
    if (p.owner == "head") {
      ++head_params;
      CHECK(p.has_tag("head"));
      CHECK(p.trainable());
    }
  CHECK(head_params == 2);  // BERT-style: one linear on the pooler
  head.forward(model->encode(ids, mask)).sum().backward();
  CHECK(model->surface().params.find("head.out.weight")->tensor.grad().defined());
  CHECK_FALSE(model->surface().params.find("pooler.dense.weight")->tensor.grad().defined());

  auto roberta = load("roberta").model;  // RoBERTa ignores its pooler, as HF does: dense + out_proj
  EncoderHead roberta_head(*roberta, {.num_labels = 2});
  CHECK(roberta->surface().params.find("head.dense.weight") != nullptr);
}

TEST_CASE("T5 has no encoder head") {
  auto t5 = load_backbone(kFixtures / "t5-v1_0" / "model");
  CHECK_THROWS_WITH_AS(EncoderHead(*t5, {}), doctest::Contains("encoder-only"), Error);
}
