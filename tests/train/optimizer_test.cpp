// AdamW with HF Trainer's decay groups, clipping and accumulation against torch.optim.AdamW driven the same
// way in Python (train_adamw.py): same initial values, same gradients, same rates.
#include "backbone/safetensors.hpp"
#include "core/error.hpp"
#include "train/optimizer.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;
using namespace petlab;
using namespace petlab::train;

namespace {
const fs::path kDir = fs::path(PETLAB_FIXTURE_DIR) / "train_adamw";

nlohmann::json reference() {
  std::ifstream in(kDir / "adamw.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

/// Tags as petlab's backbones and methods give them; the decay split must follow from them and the names.
std::string tags_of(const std::string& name) {
  if (name == "dense.weight") return "weight,attn";
  if (name == "dense.bias") return "bias,attn";
  if (name == "LayerNorm.weight") return "weight,norm";
  if (name == "LayerNorm.bias") return "bias,norm";
  if (name == "relative_attention_bias.weight") return "weight,attn";  // as the T5 backbone tags it
  return "";                                                            // method parameters: lora_A, ia3
}

ParameterTable table_from(const SafetensorsFile& file, const std::vector<std::string>& names) {
  ParameterTable table;
  for (const auto& n : names) {
    at::Tensor t = file.get("init." + n).clone().requires_grad_(true);
    table.add({n, t, tags_of(n), tags_of(n).empty() ? "method" : "backbone"});
  }
  return table;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("decay groups follow HF Trainer: no decay on biases and norms") {
  const auto ref = reference();
  const SafetensorsFile file(kDir / "adamw.safetensors");
  const auto names = ref["names"].get<std::vector<std::string>>();
  ParameterTable table = table_from(file, names);
  const Optimizer optimizer(table, {});
  CHECK(sorted(optimizer.decayed_names()) == sorted(ref["decay"].get<std::vector<std::string>>()));
  CHECK(sorted(optimizer.not_decayed_names()) == sorted(ref["no_decay"].get<std::vector<std::string>>()));
}

TEST_CASE("AdamW steps with clipping and accumulation match torch.optim.AdamW") {
  const auto ref = reference();
  const SafetensorsFile file(kDir / "adamw.safetensors");
  const auto names = ref["names"].get<std::vector<std::string>>();
  double worst_param = 0, worst_norm = 0;
  int steps = 0;
  for (const auto& c : ref["cases"]) {
    const std::string name = c["name"];
    CAPTURE(name);
    ParameterTable table = table_from(file, names);
    const auto betas = c["betas"].get<std::vector<double>>();
    Optimizer optimizer(table, {.learning_rate = c["lr"],
                                .weight_decay = c["weight_decay"],
                                .beta1 = betas[0],
                                .beta2 = betas[1],
                                .eps = c["eps"],
                                .max_grad_norm = c["max_grad_norm"],
                                .accumulation_steps = c["accumulation"]});
    const int64_t accumulation = c["accumulation"];
    const auto lrs = c["lrs"].get<std::vector<double>>();
    const auto norms = c["grad_norms"].get<std::vector<double>>();
    for (int64_t step = 0; step < c["steps"].get<int64_t>(); ++step) {
      for (int64_t micro = 0; micro < accumulation; ++micro) {
        at::Tensor loss = at::zeros({});
        for (const auto& n : names)
          loss = loss + (table.find(n)->tensor * file.get(fmt::format("{}.grad.{}.{}.{}", name, step, micro, n))).sum();
        CHECK(optimizer.backward(loss) == (micro == accumulation - 1));
      }
      const double norm = optimizer.step(lrs[static_cast<size_t>(step)]);
      const double norm_diff = std::abs(norm - norms[static_cast<size_t>(step)]) / norms[static_cast<size_t>(step)];
      CHECK(norm_diff <= 1e-6);
      worst_norm = std::max(worst_norm, norm_diff);
      for (const auto& n : names) {
        const at::Tensor expected = file.get(fmt::format("{}.after.{}.{}", name, step, n));
        const double diff = (table.find(n)->tensor.detach() - expected).abs().max().item<double>();
        CAPTURE(n);
        CHECK(diff <= 1e-6);
        worst_param = std::max(worst_param, diff);
      }
      ++steps;
    }
    CHECK(optimizer.steps_taken() == c["steps"].get<int64_t>());
  }
  MESSAGE("AdamW steps compared: " << steps << ", max abs parameter diff " << worst_param
                                   << ", max relative grad-norm diff " << worst_norm);
}

TEST_CASE("a non-finite gradient skips the update and reports the norm") {
  ParameterTable table;
  at::Tensor w = at::ones({3}).requires_grad_(true);
  table.add({"w", w, "weight", "backbone"});
  Optimizer optimizer(table, {.learning_rate = 0.1});
  CHECK(optimizer.backward((w * at::tensor({1.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f})).sum()));
  CHECK(std::isnan(optimizer.step(0.1)));
  CHECK(at::equal(w.detach(), at::ones({3})));
  CHECK(optimizer.steps_taken() == 0);
  CHECK(optimizer.pending_micro_batches() == 0);
}

TEST_CASE("optimiser options and an empty parameter set are refused with the knob named") {
  ParameterTable table;
  table.add({"w", at::ones({3}).requires_grad_(true), "weight", "backbone"});
  CHECK_THROWS_WITH_AS(Optimizer(table, {.learning_rate = -1}), doctest::Contains("learning_rate"), Error);
  CHECK_THROWS_WITH_AS(Optimizer(table, {.weight_decay = -0.1}), doctest::Contains("weight_decay"), Error);
  CHECK_THROWS_WITH_AS(Optimizer(table, {.beta2 = 1.0}), doctest::Contains("adam_beta2"), Error);
  CHECK_THROWS_WITH_AS(Optimizer(table, {.accumulation_steps = 0}), doctest::Contains("gradient_accumulation_steps"),
                       Error);
  table.freeze_all();
  CHECK_THROWS_WITH_AS(Optimizer(table, {}), doctest::Contains("nothing to train"), Error);
}
