// MAM against the `adapters` library's MAMConfig on all-MiniLM-L6-v2, its fold into plain prefixes, its
// trainable-parameter counts (closed form on a RoBERTa-base shape) and its refusals of bad knobs. Built into the
// adapter_test suite: the library-parity helpers live in adapter_test.cpp.
#include "backbone/backbone.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "methods/built_methods.hpp"
#include "plugin/registry.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using namespace petlab;
using petlab::testing::built_methods;

namespace petlab::adapter_tests {  // defined in adapter_test.cpp
int64_t trainable_count(Backbone& model, const std::string& owner);
int64_t roberta_base_count(const std::string& method, const nlohmann::json& knobs);
void check_library_parity(const std::string& name, double tolerance);
}  // namespace petlab::adapter_tests

using namespace petlab::adapter_tests;

namespace {

const fs::path kModels = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";

at::Tensor encode(Backbone& model, const SafetensorsFile& ref) {
  at::NoGradGuard no_grad;
  const EncoderOutput encoded = model.encode(ref.get("input_ids"), ref.get("attention_mask"));
  if (!model.is_encoder_decoder()) return encoded.hidden;
  return static_cast<T5Model&>(model).decode(encoded, ref.get("decoder_input_ids"), ref.get("decoder_attention_mask"));
}

}  // namespace

TEST_CASE("mam equals the adapters library's MAMConfig (prefix MLP 800, scaled parallel adapter) on MiniLM") {
  check_library_parity("minilm_mam", 1e-5);
}

TEST_CASE("mam folds its prefix MLP into plain prefixes: a fresh attach with the overrides computes the same") {
  for (const std::string backbone : {"bert", "t5-v1_0"}) {
    CAPTURE(backbone);
    const SafetensorsFile ref(kModels / backbone / "reference.safetensors");
    const nlohmann::json knobs = {{"prefix_length", 4}, {"mid_dim", 16}, {"ffn_bottleneck", 8}};
    auto trained = load_backbone(kModels / backbone / "model");
    at::manual_seed(0);
    auto mam = built_methods().create("mam", knobs);
    mam->attach(trained->surface());
    {  // the adapter's up projections start at zero: make them matter
      at::NoGradGuard no_grad;
      for (auto& p : trained->surface().params.all())
        if (p.owner == "mam" && p.name.find(".up.") != std::string::npos) p.tensor.normal_(0.0, 0.1);
    }
    const nlohmann::json overrides = mam->fold(trained->surface());
    CHECK(overrides == nlohmann::json{{"reparameterize", false}});

    auto fresh = load_backbone(kModels / backbone / "model");
    nlohmann::json plain = knobs;
    plain.update(overrides);
    auto reloaded = built_methods().create("mam", plain);
    reloaded->attach(fresh->surface());
    int copied = 0;
    {
      at::NoGradGuard no_grad;
      for (auto& p : fresh->surface().params.all()) {
        if (p.owner != "mam") continue;
        const auto* saved = trained->surface().params.find(p.name);
        CAPTURE(p.name);
        REQUIRE(saved != nullptr);
        CHECK_FALSE(saved->has_tag("transient"));
        p.tensor.copy_(saved->tensor);
        ++copied;
      }
    }
    CHECK(copied > 0);
    const double diff = (encode(*fresh, ref) - encode(*trained, ref)).abs().max().item<double>();
    MESSAGE(backbone << ": folded and reparameterised mam differ by " << diff << " (" << copied << " tensors)");
    CHECK(diff <= 1e-5);
  }
}

TEST_CASE("mam counts on a RoBERTa-base shape follow the closed forms in plugins/mam/README.md") {
  const int64_t H = 768, L = 12, P = 30, M = 800, b = 512;
  const int64_t adapters = L * (2 * H * b + b + H);
  const int64_t mlp = P * H + (H * M + M) + (M * 2 * L * H + 2 * L * H);
  CHECK(adapters + mlp == 24854816);
  CHECK(roberta_base_count("mam", nlohmann::json::object()) == adapters + mlp);
  CHECK(roberta_base_count("mam", {{"reparameterize", false}}) == adapters + 2 * L * P * H);
  CHECK(adapters + 2 * L * P * H == 10005504);
}

TEST_CASE("mam refuses bad knobs with messages that name the knob and what it expects") {
  const auto& r = built_methods();
  CHECK_THROWS_WITH_AS(r.create("mam", {{"ffn_bottleneck", 0}}),
                       doctest::Contains("ffn_bottleneck = 0; expected a positive adapter width"), Error);
  CHECK_THROWS_WITH_AS(r.create("mam", {{"scaling", "large"}}),
                       doctest::Contains("scaling = \"large\"; expected a number or \"learned\""), Error);
  CHECK_THROWS_WITH_AS(r.create("mam", {{"prefix_length", 0}}),
                       doctest::Contains("prefix_length = 0; expected a positive number"), Error);
  CHECK_THROWS_WITH_AS(r.create("mam", {{"non_linearity", "tanh"}}),
                       doctest::Contains("non_linearity = 'tanh'; expected relu, gelu or swish"), Error);
  auto model = load_backbone(kModels / "bert" / "model");
  CHECK_THROWS_WITH_AS(r.create("mam", {{"targets", "attn.kv"}})->attach(model->surface()),
                       doctest::Contains("no block site among the targets"), Error);
  CHECK_THROWS_WITH_AS(r.create("mam", {{"targets", "ffn.block"}})->attach(model->surface()),
                       doctest::Contains("no attention site among the targets"), Error);
  CHECK_THROWS_WITH_AS(r.create("mam", {{"targets", {"attn.kv", "ffn.block", "attn.q"}}})->attach(model->surface()),
                       doctest::Contains("'enc.L0.attn.q' is neither an attention site"), Error);
}
