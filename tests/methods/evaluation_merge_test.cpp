// Merged evaluation (tuning/evaluation_merge.hpp): while a scope is open the mergeable methods live in the
// weights and give the hooked outputs; when it closes every backbone tensor is bit for bit what it was, over
// many evaluations; a run with a method that cannot merge is left alone.
#include "backbone/safetensors.hpp"
#include "methods/built_methods.hpp"
#include "tuning/evaluation_merge.hpp"
#include "tuning/tuned_model.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace petlab;
using petlab::testing::built_methods;

namespace {
const fs::path kFixtures = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";

std::unique_ptr<TunedModel> tuned(const std::string& backbone, const std::vector<MethodSpec>& methods) {
  return std::make_unique<TunedModel>(load_backbone(kFixtures / backbone / "model"), HeadOptions{.num_labels = 2},
                                      methods, built_methods(), 11);
}

/// Moves the method parameters away from their (identity) initialisation, so a merge changes the weights.
void perturb(TunedModel& model) {
  at::NoGradGuard no_grad;
  at::manual_seed(5);
  for (auto& p : model.backbone().surface().params.all())
    if (p.owner != "backbone" && p.owner != "head") p.tensor.add_(at::randn_like(p.tensor) * 0.3);
}

at::Tensor hidden(TunedModel& model, const SafetensorsFile& ref) {
  model.train(false);
  at::NoGradGuard no_grad;
  return model.backbone().encode(ref.get("input_ids"), ref.get("attention_mask")).hidden;
}

std::vector<at::Tensor> backbone_copy(TunedModel& model) {
  std::vector<at::Tensor> out;
  for (const auto& p : model.backbone().surface().params.all())
    if (p.owner == "backbone") out.push_back(p.tensor.detach().clone());
  return out;
}

bool bitwise_equal(TunedModel& model, const std::vector<at::Tensor>& before) {
  size_t i = 0;
  for (const auto& p : model.backbone().surface().params.all())
    if (p.owner == "backbone" && !at::equal(p.tensor, before[i++])) return false;
  return true;
}
}  // namespace

TEST_CASE("merged evaluation gives the hooked outputs and leaves the backbone bit for bit as it was") {
  for (const std::string backbone : {"bert", "t5-v1_1"}) {
    CAPTURE(backbone);
    auto model = tuned(backbone, {{"lora", {{"r", 4}, {"targets", {"attn.q", "attn.v", "ffn.out"}}}}, {"ia3", {}}});
    perturb(*model);
    const SafetensorsFile ref(kFixtures / backbone / "reference.safetensors");
    const at::Tensor hooked = hidden(*model, ref);
    const auto before = backbone_copy(*model);
    EvaluationMerge merge(*model);
    REQUIRE(merge.available());
    for (int evaluation = 0; evaluation < 25; ++evaluation) {
      EvaluationMerge::Scope scope(merge);  // closed by its destructor, as when an evaluation throws
      CHECK(model->merged());
      if (evaluation == 0) {
        CHECK(!bitwise_equal(*model, before));  // the updates really are in the weights now
        const double diff = (hidden(*model, ref) - hooked).abs().max().item<double>();
        MESSAGE(backbone << ": merged vs hooked " << diff);
        CHECK(diff <= 1e-4 * std::max(1.0, hooked.abs().max().item<double>()));
      }
    }
    CHECK(!model->merged());
    CHECK(bitwise_equal(*model, before));
    EvaluationMerge::Scope closed(merge);
    closed.close();  // the trainer's way: explicitly, so an unmerge error surfaces
    CHECK(!model->merged());
    CHECK(bitwise_equal(*model, before));
    CHECK(at::equal(hidden(*model, ref), hooked));
  }
}

TEST_CASE("merged evaluation is skipped for methods that cannot merge and for a model merged already") {
  auto prefix = tuned("bert", {{"lora", {}}, {"prefix", {{"length", 4}}}});
  EvaluationMerge with_prefix(*prefix);
  CHECK(!with_prefix.available());
  { EvaluationMerge::Scope scope(with_prefix); CHECK(!prefix->merged()); }

  auto head_only = tuned("bert", {});
  CHECK(!EvaluationMerge(*head_only).available());

  auto lora = tuned("bert", {{"lora", {}}});
  EvaluationMerge merge(*lora);
  lora->merge();  // the caller's own merge
  { EvaluationMerge::Scope scope(merge); }
  CHECK(lora->merged());  // still the caller's
}
