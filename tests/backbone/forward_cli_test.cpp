// `petlab forward` end to end: the CLI contract of issue 3, compared with HF tokenizers + transformers run
// on the same JSONL by scripts/reference/forward_cases.py.
#include "backbone/safetensors.hpp"
#include "support/run.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace petlab;
using petlab::testing::run;
using petlab::testing::shell_quote;

namespace {
const fs::path kModels = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";
const fs::path kCases = fs::path(PETLAB_FIXTURE_DIR) / "forward_cases";
const fs::path kScratch = fs::temp_directory_path() / "petlab-forward-tests";

std::string forward(const std::string& model, const fs::path& input, const fs::path& out, const std::string& extra = "") {
  fs::create_directories(kScratch);
  const auto r = run(shell_quote(PETLAB_BINARY) + " forward --model " + shell_quote((kModels / model / "model").string()) +
                     " --input " + shell_quote(input.string()) + " --out " + shell_quote(out.string()) +
                     " --max-length 24 " + extra);
  return r.exit_code == 0 ? "" : r.err.empty() ? "exit " + std::to_string(r.exit_code) : r.err;
}

std::string slurp(const fs::path& file) {
  std::stringstream s;
  s << std::ifstream(file, std::ios::binary).rdbuf();
  return s.str();
}

/// Runs forward on the case's inputs and checks every tensor against HF's.
void check_case(const std::string& name) {
  if (!fs::exists(kCases / name / "inputs.jsonl")) {
    MESSAGE("skipped: no tokenizer in the tiny " << name << " model (tokenizer_assets.py missing)");
    return;
  }
  const auto out = kScratch / (name + ".safetensors");
  REQUIRE(forward(name, kCases / name / "inputs.jsonl", out) == "");
  const SafetensorsFile ours(out), ref(kCases / name / "reference.safetensors");
  CHECK(at::equal(ours.get("input_ids"), ref.get("input_ids")));
  CHECK(at::equal(ours.get("attention_mask"), ref.get("attention_mask")));
  const at::Tensor keep = ref.get("attention_mask").unsqueeze(-1).to(at::kFloat);
  const double hidden = ((ours.get("last_hidden_state") - ref.get("last_hidden_state")) * keep).abs().max().item<double>();
  MESSAGE(name << " last_hidden_state max abs difference: " << hidden);
  CHECK(hidden <= 1e-4);
  if (ref.contains("logits")) {
    CHECK(at::equal(ours.get("labels"), ref.get("labels")));
    CHECK(at::equal(ours.get("decoder_input_ids"), ref.get("decoder_input_ids")));
    const double logits = (ours.get("logits") - ref.get("logits")).abs().max().item<double>();
    MESSAGE(name << " logits max abs difference: " << logits);
    CHECK(logits <= 1e-4);
  }
}

fs::path write_input(const std::string& name, const std::string& content) {
  fs::create_directories(kScratch);
  const auto file = kScratch / name;
  std::ofstream(file, std::ios::binary) << content;
  return file;
}
}  // namespace

TEST_CASE("forward on all-MiniLM-L6-v2 matches HF tokenizers and transformers") { check_case("minilm"); }
TEST_CASE("forward on tiny BERT matches HF") { check_case("bert"); }
TEST_CASE("forward on tiny RoBERTa matches HF") { check_case("roberta"); }
TEST_CASE("forward on tiny T5 v1.0 matches HF, logits included") { check_case("t5-v1_0"); }
TEST_CASE("forward on tiny T5 v1.1 matches HF, logits included") { check_case("t5-v1_1"); }

TEST_CASE("the same inputs give a byte-identical output file") {
  const auto input = kCases / "minilm" / "inputs.jsonl";
  REQUIRE(forward("minilm", input, kScratch / "a.safetensors") == "");
  REQUIRE(forward("minilm", input, kScratch / "b.safetensors") == "");
  CHECK(slurp(kScratch / "a.safetensors") == slurp(kScratch / "b.safetensors"));
}

TEST_CASE("bad inputs are refused with the file, the line and what was expected") {
  const auto out = kScratch / "bad.safetensors";
  CHECK(forward("minilm", write_input("not-json.jsonl", "{\"text\": \"ok\"}\nnot json\n"), out)
            .find("not-json.jsonl:2: invalid JSON") != std::string::npos);
  CHECK(forward("minilm", write_input("no-text.jsonl", "{\"txt\": \"typo\"}\n"), out)
            .find("no-text.jsonl:1: unknown field \"txt\"") != std::string::npos);
  CHECK(forward("minilm", write_input("number.jsonl", "{\"text\": 5}\n"), out)
            .find("number.jsonl:1: \"text\" must be a string, got 5") != std::string::npos);
  CHECK(forward("minilm", write_input("utf8.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"bad \xC3\x28 byte\"}\n"), out)
            .find("utf8.jsonl:2: invalid JSON") != std::string::npos);
  CHECK(forward("minilm", write_input("utf8.jsonl", "{\"text\": \"bad \xC3\x28 byte\"}\n"), out).find("ill-formed UTF-8") !=
        std::string::npos);
  CHECK(forward("minilm", write_input("target.jsonl", "{\"text\": \"a\", \"target\": \"b\"}\n"), out)
            .find("encoder-only model") != std::string::npos);
  CHECK(forward("minilm", write_input("empty.jsonl", "\n\n"), out).find("has no lines") != std::string::npos);
  CHECK(forward("minilm", kScratch / "missing.jsonl", out).find("cannot read input") != std::string::npos);
}

TEST_CASE("a model folder without tokenizer files says what was looked for") {
  const auto dir = kScratch / "no-tokenizer";
  fs::create_directories(dir);
  fs::copy_file(kModels / "bert" / "model" / "config.json", dir / "config.json", fs::copy_options::overwrite_existing);
  const auto r = run(shell_quote(PETLAB_BINARY) + " forward --model " + shell_quote(dir.string()) + " --input " +
                     shell_quote((kCases / "minilm" / "inputs.jsonl").string()) + " --out " +
                     shell_quote((kScratch / "x.safetensors").string()));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(dir.string()) != std::string::npos);
}
