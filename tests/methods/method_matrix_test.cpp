// The method × backbone matrix: each method attaches through the ABI to tiny BERT, RoBERTa and T5, runs
// forward and backward, and gradients reach exactly the parameters the method is meant to train.
#include "backbone/backbone.hpp"
#include "backbone/heads.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "methods/built_methods.hpp"
#include "plugin/registry.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <functional>

namespace fs = std::filesystem;
using namespace petlab;
using petlab::testing::built_methods;

namespace {
const fs::path kFixtures = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";
const char* kBackbones[] = {"bert", "roberta", "t5-v1_0", "t5-v1_1"};

using Expectation = std::function<bool(const Parameter&)>;

/// Loads `backbone`, freezes it, adds a head (encoders), attaches `method` and back-propagates a loss.
/// Returns the model so the caller can inspect gradients.
std::shared_ptr<Backbone> run(const std::string& backbone, const std::string& method, const nlohmann::json& knobs,
                              std::unique_ptr<MethodInstance>& instance, std::unique_ptr<EncoderHead>& head) {
  const SafetensorsFile ref(kFixtures / backbone / "reference.safetensors");
  auto model = load_backbone(kFixtures / backbone / "model");
  model->surface().params.freeze_all();
  at::manual_seed(0);  // the init seed
  if (!model->is_encoder_decoder()) head = std::make_unique<EncoderHead>(*model, HeadOptions{.num_labels = 2});
  instance = testing::built_methods().create(method, knobs);
  instance->attach(model->surface());
  model->train();

  const auto encoded = model->encode(ref.get("input_ids"), ref.get("attention_mask"));
  at::Tensor loss = model->is_encoder_decoder()
                        ? static_cast<T5Model&>(*model).loss(encoded, ref.get("decoder_input_ids").roll(-1, 1))
                        : head->forward(encoded).pow(2).sum();
  loss.backward();
  return model;
}

void check_gradients(const std::string& method, const nlohmann::json& knobs, const Expectation& expected) {
  for (const char* backbone : kBackbones) {
    CAPTURE(backbone);
    std::unique_ptr<MethodInstance> instance;
    std::unique_ptr<EncoderHead> head;
    auto model = run(backbone, method, knobs, instance, head);
    int trained = 0;
    for (const auto& p : model->surface().params.all()) {
      CAPTURE(p.name);
      const bool has_grad = p.tensor.grad().defined();
      CHECK(has_grad == expected(p));
      trained += has_grad;
    }
    CHECK(trained > 0);
  }
}

bool is_head(const Parameter& p) { return p.owner == "head"; }
}  // namespace

TEST_CASE("full: every backbone parameter and the head train") {
  check_gradients("full", nullptr, [](const Parameter& p) { return p.owner == "backbone" || is_head(p); });
}

TEST_CASE("head: only the encoder head, or T5's LM head, trains") {
  check_gradients("head", nullptr, [](const Parameter& p) { return is_head(p) || p.has_tag("head"); });
}

TEST_CASE("bitfit: only biases train, and T5 gets zero-initialised biases on its linear sites") {
  check_gradients("bitfit", nullptr, [](const Parameter& p) {
    return is_head(p) || p.owner == "bitfit" || (p.owner == "backbone" && p.has_tag("bias"));
  });
}

TEST_CASE("bitfit: which = attention and a layer selection narrow what trains") {
  check_gradients("bitfit", {{"which", "attention"}, {"layers", "last:1"}}, [](const Parameter& p) {
    if (is_head(p)) return true;
    const bool attention = p.has_tag("attn") || p.has_tag("xattn") || p.name.find(".attn.") != std::string::npos ||
                           p.name.find(".xattn.") != std::string::npos;
    const bool last = p.layer == 1 || p.layer == 2;  // tiny encoders have 2 layers, the tiny T5 decoders 3
    if (p.owner == "bitfit") return attention && last;
    return p.owner == "backbone" && p.has_tag("bias") && attention && last;
  });
}

TEST_CASE("bitfit refuses an unknown group and a bad layer selection") {
  MethodRegistry registry;
  registry.load_directories({PETLAB_PLUGIN_BUILD_DIR});
  CHECK_THROWS_WITH_AS(registry.create("bitfit", {{"which", "norms"}}), doctest::Contains("expected all, attention or ffn"),
                       Error);
  auto model = load_backbone(kFixtures / "bert" / "model");
  auto bad = registry.create("bitfit", {{"layers", "last:9"}});
  CHECK_THROWS_WITH_AS(bad->attach(model->surface()), doctest::Contains("cannot take 9 layers"), Error);
}

TEST_CASE("adapter: every variant trains its down and up projections only, on every backbone") {
  for (const std::string variant : {"houlsby", "pfeiffer", "parallel", "scaled_parallel"}) {
    CAPTURE(variant);
    check_gradients("adapter", {{"variant", variant}},
                    [](const Parameter& p) { return is_head(p) || p.owner == "adapter"; });
  }
}

TEST_CASE("adapter: new norms and a learned scaling train too, on cross-attention blocks as well") {
  check_gradients("adapter",
                  {{"variant", "pfeiffer"}, {"ln_before", true}, {"ln_after", true}, {"scaling", "learned"},
                   {"targets", {"ffn.block", "xattn.block"}}},
                  [](const Parameter& p) { return is_head(p) || p.owner == "adapter"; });
}

TEST_CASE("lora: only the low-rank factors A and B of q and v train, besides the head") {
  check_gradients("lora", nullptr, [](const Parameter& p) {
    const bool qv = p.name.find(".attn.q.lora_") != std::string::npos || p.name.find(".attn.v.lora_") != std::string::npos;
    return is_head(p) || (p.owner == "lora" && qv);
  });
}

TEST_CASE("lora: targets and a layer selection narrow the adapted sites") {
  check_gradients("lora", {{"targets", {"ffn.in", "attn.o"}}, {"layers", "last:1"}}, [](const Parameter& p) {
    // last:1 is layer 1 of the tiny encoders and the tiny T5 encoder, layer 2 of the tiny T5 decoder
    const bool last = p.name.rfind("lora/enc.L1.", 0) == 0 || p.name.rfind("lora/dec.L2.", 0) == 0;
    return is_head(p) || (p.owner == "lora" && last);
  });
}

TEST_CASE("ia3: only the scaling vectors of k, v and ffn.act train, besides the head") {
  check_gradients("ia3", nullptr, [](const Parameter& p) {
    const bool site = p.name.find(".attn.k.ia3") != std::string::npos ||
                      p.name.find(".attn.v.ia3") != std::string::npos || p.name.find(".ffn.act.ia3") != std::string::npos;
    return is_head(p) || (p.owner == "ia3" && site);
  });
}

TEST_CASE("mam: the prefix MLP and the FFN's parallel adapters train, on every backbone") {
  check_gradients("mam", {{"prefix_length", 4}, {"mid_dim", 16}, {"ffn_bottleneck", 8}},
                  [](const Parameter& p) { return is_head(p) || p.owner == "mam"; });
}

TEST_CASE("prefix: the reparameterisation MLP and its embedding train, on every backbone") {
  check_gradients("prefix", {{"length", 3}, {"mid_dim", 8}, {"targets", {"attn.kv", "xattn.kv"}}},
                  [](const Parameter& p) { return is_head(p) || p.owner == "prefix"; });
}

TEST_CASE("prefix: without reparameterisation every site's key and value prefix trains") {
  check_gradients("prefix", {{"length", 2}, {"reparameterize", false}, {"targets", {"attn.kv", "xattn.kv"}}},
                  [](const Parameter& p) { return is_head(p) || p.owner == "prefix"; });
}

TEST_CASE("prompt: only the soft prompt trains, besides the head") {
  check_gradients("prompt", {{"length", 3}}, [](const Parameter& p) { return is_head(p) || p.owner == "prompt"; });
}
