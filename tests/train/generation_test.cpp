// Greedy and beam search on the T5 KV cache against HF transformers' generate() on the tiny T5 models (and
// eos-prone variants of them, so sequences end at different steps): the token ids must be identical.
#include "backbone/backbone.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "core/error.hpp"
#include "train/generation.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace petlab;
using namespace petlab::train;

namespace {
const fs::path kModels = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";
const fs::path kReference = fs::path(PETLAB_FIXTURE_DIR) / "train_generation";

std::shared_ptr<T5Model> load_t5(const std::string& name) {
  const fs::path dir = fs::exists(kReference / name / "model") ? kReference / name / "model" : kModels / name / "model";
  auto model = std::dynamic_pointer_cast<T5Model>(load_backbone(dir));
  REQUIRE(model != nullptr);
  model->eval();
  return model;
}

BeamStop beam_stop(const nlohmann::json& value) {
  if (value.is_string()) return BeamStop::never;
  return value.get<bool>() ? BeamStop::when_full : BeamStop::heuristic;
}

/// Compares one row: ours (no start token, pad after eos) with HF's (start token first; after eos HF fills
/// with its own filler, pad or eos). Returns the number of tokens compared.
int64_t compare_row(const at::Tensor& ours, const at::Tensor& theirs, int64_t eos, int64_t pad) {
  const auto a = ours.contiguous(), b = theirs.narrow(0, 1, theirs.size(0) - 1).contiguous();
  REQUIRE(a.size(0) == b.size(0));
  const int64_t* x = a.data_ptr<int64_t>();
  const int64_t* y = b.data_ptr<int64_t>();
  int64_t t = 0;
  for (; t < a.size(0); ++t) {
    CHECK(x[t] == y[t]);
    if (y[t] == eos) break;
  }
  for (int64_t rest = t + 1; rest < a.size(0); ++rest) {
    CHECK(x[rest] == pad);
    CHECK((y[rest] == pad || y[rest] == eos));
  }
  return std::min(t + 1, a.size(0));
}
}  // namespace

TEST_CASE("greedy and beam search give HF generate()'s token ids") {
  std::ifstream in(kReference / "generation.json");
  REQUIRE(in.good());
  const auto spec = nlohmann::json::parse(in);
  int64_t tokens = 0, rows = 0, ended_early = 0;
  for (const std::string name : spec["models"]) {
    auto model = load_t5(name);
    const SafetensorsFile reference(kReference / name / "generation.safetensors");
    const at::Tensor ids = reference.get("input_ids"), mask = reference.get("attention_mask");
    for (const auto& config : spec["configs"]) {
      const std::string config_name = config["name"];
      CAPTURE(name);
      CAPTURE(config_name);
      const GenerationOptions options{.max_new_tokens = config["max_new_tokens"],
                                      .num_beams = config["num_beams"],
                                      .length_penalty = config["length_penalty"],
                                      .early_stopping = beam_stop(config["early_stopping"])};
      const at::Tensor ours = generate(*model, ids, mask, options);
      const at::Tensor theirs = reference.get(config_name);
      REQUIRE(ours.size(0) == theirs.size(0));
      CHECK(ours.size(1) == theirs.size(1) - 1);
      if (ours.size(1) != theirs.size(1) - 1) continue;
      for (int64_t r = 0; r < ours.size(0); ++r) {
        const int64_t n = compare_row(ours[r], theirs[r], 1, 0);
        tokens += n;
        ++rows;
        ended_early += n < options.max_new_tokens || ours[r][n - 1].item<int64_t>() == 1;
      }
    }
  }
  MESSAGE("generated rows compared: " << rows << " (" << ended_early << " ended with eos), tokens identical: "
                                      << tokens);
  CHECK(ended_early >= rows / 5);  // the eos variants must exercise eos handling
}

TEST_CASE("generation options are checked, naming the knob") {
  auto model = load_t5("t5-v1_0");
  const at::Tensor ids = at::ones({2, 3}, at::kLong), mask = at::ones({2, 3}, at::kLong);
  CHECK_THROWS_WITH_AS(generate(*model, ids, mask, {.max_new_tokens = 0}), doctest::Contains("max_new_tokens"), Error);
  CHECK_THROWS_WITH_AS(generate(*model, ids, mask, {.num_beams = 0}), doctest::Contains("num_beams"), Error);
  CHECK_THROWS_WITH_AS(generate(*model, ids, at::ones({2, 4}, at::kLong), {}), doctest::Contains("attention_mask"),
                       Error);
  // Greedy output of a batch equals each row generated alone (padding does not leak between rows).
  const SafetensorsFile reference(kReference / "t5-v1_1-eos" / "generation.safetensors");
  auto eos_model = load_t5("t5-v1_1-eos");
  const at::Tensor all_ids = reference.get("input_ids"), all_mask = reference.get("attention_mask");
  const at::Tensor batch = generate(*eos_model, all_ids, all_mask, {.max_new_tokens = 12, .num_beams = 3});
  for (int64_t r = 0; r < all_ids.size(0); ++r) {
    const int64_t len = all_mask[r].sum().item<int64_t>();
    const at::Tensor alone = generate(*eos_model, all_ids[r].narrow(0, 0, len).unsqueeze(0),
                                      all_mask[r].narrow(0, 0, len).unsqueeze(0), {.max_new_tokens = 12, .num_beams = 3});
    CHECK(at::equal(alone[0], batch[r].narrow(0, 0, alone.size(1))));
  }
}
