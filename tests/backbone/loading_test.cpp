// Loading a model folder: every malformed input is refused with its own message naming what is wrong.
#include "backbone/backbone.hpp"
#include "backbone/bert.hpp"
#include "backbone/safetensors.hpp"
#include "core/error.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace petlab;

namespace {

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / "petlab-loading-tests" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

const char* kTinyBertConfig = R"({"model_type": "bert", "vocab_size": 20, "hidden_size": 8, "num_hidden_layers": 1,
  "num_attention_heads": 2, "intermediate_size": 12, "max_position_embeddings": 16, "type_vocab_size": 2})";

/// A complete, valid tiny BERT folder; `edit` may change the tensors before they are written.
fs::path tiny_bert(const std::string& name, const std::function<void(std::map<std::string, at::Tensor>&)>& edit = {}) {
  const auto dir = fresh_dir(name);
  write_text(dir / "config.json", kTinyBertConfig);
  const BertEncoder model(read_model_config(dir), BertOptions::from_config(read_model_config(dir)));
  std::map<std::string, at::Tensor> tensors;
  for (const auto& p : const_cast<BertEncoder&>(model).surface().params.all()) tensors[p.name] = p.tensor;
  if (edit) edit(tensors);
  write_safetensors(dir / "model.safetensors", tensors);
  return dir;
}

std::string load_error(const fs::path& dir) {
  try {
    load_backbone(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "(loaded)";
}

}  // namespace

TEST_CASE("a valid tiny folder loads") { CHECK(load_error(tiny_bert("valid")) == "(loaded)"); }

TEST_CASE("a sharded checkpoint loads through model.safetensors.index.json") {
  const auto dir = tiny_bert("sharded");
  const SafetensorsFile whole(dir / "model.safetensors");
  std::map<std::string, at::Tensor> first, second;
  nlohmann::json weight_map;
  for (const auto& name : whole.names()) {
    const bool in_first = name.find("embeddings") != std::string::npos;
    (in_first ? first : second)[name] = whole.get(name).clone();
    weight_map[name] = in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  write_safetensors(dir / "model-00001-of-00002.safetensors", first);
  write_safetensors(dir / "model-00002-of-00002.safetensors", second);
  write_text(dir / "model.safetensors.index.json", nlohmann::json{{"weight_map", weight_map}}.dump());
  fs::remove(dir / "model.safetensors");
  auto model = load_backbone(dir);
  const auto* p = model->surface().params.find("encoder.layer.0.output.dense.weight");
  REQUIRE(p != nullptr);
  CHECK(at::equal(p->tensor, whole.get("encoder.layer.0.output.dense.weight")));
}

TEST_CASE("a missing folder and a folder without config.json are named") {
  CHECK(load_error("/nonexistent/model").find("'/nonexistent/model' does not exist") != std::string::npos);
  CHECK(load_error(fresh_dir("empty")).find("has no config.json") != std::string::npos);
}

TEST_CASE("an unknown model_type lists the supported ones") {
  const auto dir = fresh_dir("gpt2");
  write_text(dir / "config.json", R"({"model_type": "gpt2"})");
  const auto msg = load_error(dir);
  CHECK(msg.find("model_type 'gpt2' is not supported; supported: bert, roberta, t5") != std::string::npos);
}

TEST_CASE("a .bin-only folder says how to convert it") {
  const auto dir = fresh_dir("bin-only");
  write_text(dir / "config.json", kTinyBertConfig);
  write_text(dir / "pytorch_model.bin", "pickle");
  const auto msg = load_error(dir);
  CHECK(msg.find("has only pytorch_model.bin") != std::string::npos);
  CHECK(msg.find("safe_serialization=True") != std::string::npos);
}

TEST_CASE("a truncated safetensors file is refused naming the tensor that runs past the end") {
  const auto dir = tiny_bert("truncated");
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") - 100);
  CHECK(load_error(dir).find("is truncated: tensor '") != std::string::npos);
}

TEST_CASE("a header length past the end of the file is refused") {
  const auto dir = fresh_dir("header-past-end");
  write_text(dir / "config.json", kTinyBertConfig);
  const uint64_t len = 1u << 30;
  std::string bytes(reinterpret_cast<const char*>(&len), 8);
  write_text(dir / "model.safetensors", bytes + "{}");
  CHECK(load_error(dir).find("header length 1073741824 reaches past the end of the file (10 bytes)") !=
        std::string::npos);
}

TEST_CASE("an unsupported dtype names the tensor and the dtype") {
  const auto dir = fresh_dir("fp8");
  write_text(dir / "config.json", kTinyBertConfig);
  const std::string header = R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})";
  const uint64_t len = header.size();
  write_text(dir / "model.safetensors", std::string(reinterpret_cast<const char*>(&len), 8) + header + "ab");
  CHECK(load_error(dir).find("tensor 'w' has dtype F8_E4M3, which petlab does not support") != std::string::npos);
}

TEST_CASE("a tensor whose shape does not match the config is named with both shapes") {
  const auto dir = tiny_bert("shape", [](auto& t) { t["encoder.layer.0.attention.self.query.weight"] = at::zeros({8, 4}); });
  const auto msg = load_error(dir);
  CHECK(msg.find("tensor 'encoder.layer.0.attention.self.query.weight' in model.safetensors has shape [8,4], the "
                 "config implies [8,8]") != std::string::npos);
}

TEST_CASE("missing and unexpected tensors are all listed") {
  const auto dir = tiny_bert("missing", [](auto& t) {
    t.erase("encoder.layer.0.output.dense.bias");
    t["encoder.layer.0.adapter.weight"] = at::zeros({2});
  });
  const auto msg = load_error(dir);
  CHECK(msg.find("2 problems") != std::string::npos);
  CHECK(msg.find("missing tensor 'encoder.layer.0.output.dense.bias' (expected shape [8])") != std::string::npos);
  CHECK(msg.find("unexpected tensor 'encoder.layer.0.adapter.weight'") != std::string::npos);
}

TEST_CASE("an integer tensor where a weight belongs is a dtype mismatch") {
  const auto dir = tiny_bert("dtype", [](auto& t) { t["embeddings.LayerNorm.bias"] = at::zeros({8}, at::kLong); });
  CHECK(load_error(dir).find("tensor 'embeddings.LayerNorm.bias' has dtype Long, expected a floating-point tensor") !=
        std::string::npos);
}

TEST_CASE("config errors name config.json and the key") {
  const auto dir = tiny_bert("bad-config");
  write_text(dir / "config.json", R"({"model_type": "bert", "vocab_size": "many"})");
  const auto msg = load_error(dir);
  CHECK(msg.find("config.json: key 'vocab_size' has the wrong type") != std::string::npos);
}

TEST_CASE("device and dtype choices are checked before loading") {
  CHECK_THROWS_WITH_AS(load_backbone(tiny_bert("device"), {.device = "tpu"}),
                       "unknown device 'tpu'; expected cpu, cuda, cuda:N or auto", Error);
  CHECK_THROWS_WITH_AS(load_backbone(tiny_bert("dtype16"), {.dtype = "fp16"}),
                       "dtype 'fp16' needs a CUDA device; on the CPU use bf16 or fp32", Error);
  CHECK_THROWS_WITH_AS(load_backbone(tiny_bert("cuda"), {.device = "cuda"}), doctest::Contains("device 'cuda' requested"),
                       Error);
  CHECK(load_error(tiny_bert("auto")) == "(loaded)");
}
