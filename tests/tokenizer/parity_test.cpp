// Token ids identical to Hugging Face's fast tokenizers: every string, pair and max length the reference
// script (scripts/reference/tokenizer_cases.py) wrote, for each family, plus HF's decode() of the results.
// The real t5-small and bert-base-uncased tokenizers from ../shared/data are compared when present.
#include "tokenizer/tokenizer.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;
using petlab::tok::Tokenizer;

namespace {

const fs::path kCases = fs::path(PETLAB_FIXTURE_DIR) / "tokenizer_cases";

json read_json(const fs::path& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "missing reference file " << file << " (the tokenizer_cases fixture writes it)");
  return json::parse(in);
}

/// Printable form of a test string for failure messages.
std::string shown(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 120)) {
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return '"' + out + (s.size() > 120 ? "\"..." : "\"");
}

std::string ids_text(const std::vector<int64_t>& ids) {
  std::ostringstream o;
  for (size_t i = 0; i < ids.size() && i < 40; ++i) o << (i ? " " : "") << ids[i];
  if (ids.size() > 40) o << " ...(" << ids.size() << ")";
  return o.str();
}

/// The family's reference and our tokenizer for its folder, or nothing (with a message) when the
/// reference script skipped it because the real tokenizer is absent from ../shared/data.
struct Family {
  json ref;
  std::unique_ptr<Tokenizer> tok;
};
std::optional<Family> family(const std::string& name) {
  const json manifest = read_json(kCases / "manifest.json");
  for (const auto& f : manifest["families"]) {
    if (f["name"] != name) continue;
    if (f.contains("skipped")) {
      MESSAGE("skipped " << name << ": " << f["skipped"].get<std::string>());
      return std::nullopt;
    }
    Family out{read_json(kCases / f["file"].get<std::string>()), nullptr};
    out.tok = petlab::tok::load_tokenizer(out.ref["model_dir"].get<std::string>());
    return out;
  }
  FAIL("family " << name << " is not in " << (kCases / "manifest.json"));
  return std::nullopt;
}

void check_encodings(const std::string& name) {
  auto f = family(name);
  if (!f) return;
  CHECK(f->tok->vocab_size() == f->ref["vocab_size"].get<int64_t>());
  CHECK(f->tok->pad_id() == f->ref["pad_id"].get<int64_t>());
  size_t total = 0, same = 0;
  for (const auto& c : f->ref["cases"]) {
    const std::string text = c["text"];
    std::optional<std::string> pair;
    if (!c["pair"].is_null()) pair = c["pair"].get<std::string>();
    const size_t max_length = c["max_length"];
    const auto expected_ids = c["ids"].get<std::vector<int64_t>>();
    const auto expected_types = c["type_ids"].get<std::vector<int64_t>>();
    petlab::tok::Encoding got;
    try {
      got = pair ? f->tok->encode(text, *pair, max_length) : f->tok->encode(text, std::nullopt, max_length);
    } catch (const std::exception& e) {
      FAIL_CHECK(name << ": " << shown(text) << " threw " << e.what());
      ++total;
      continue;
    }
    ++total;
    if (got.ids == expected_ids && got.type_ids == expected_types) {
      ++same;
      continue;
    }
    if (total - same <= 10)
      FAIL_CHECK(name << ": " << shown(text) << (pair ? " + " + shown(*pair) : std::string()) << " max_length "
                      << max_length << "\n  HF   " << ids_text(expected_ids) << " / types " << ids_text(expected_types)
                      << "\n  ours " << ids_text(got.ids) << " / types " << ids_text(got.type_ids));
  }
  MESSAGE(name << ": " << same << " of " << total << " encodings identical to HF");
  CHECK(total >= 1500);
  CHECK(same == total);
}

void check_decodes(const std::string& name) {
  auto f = family(name);
  if (!f) return;
  size_t total = 0, same = 0;
  for (const auto& d : f->ref["decodes"]) {
    const auto ids = d["ids"].get<std::vector<int64_t>>();
    const std::string expected = d["text"];
    const std::string got = f->tok->decode(ids, d["skip_special"].get<bool>());
    ++total;
    if (got == expected) {
      ++same;
    } else if (total - same <= 10) {
      FAIL_CHECK(name << ": decode(" << ids_text(ids) << ", skip_special=" << d["skip_special"] << ")\n  HF   "
                      << shown(expected) << "\n  ours " << shown(got));
    }
  }
  MESSAGE(name << ": " << same << " of " << total << " decodes identical to HF");
  CHECK(total >= 1000);
  CHECK(same == total);
}

}  // namespace

TEST_CASE("the reference covers at least 500 strings and pairs at three max lengths") {
  const json manifest = read_json(kCases / "manifest.json");
  CHECK(manifest["strings"].get<int>() >= 500);
  CHECK(manifest["pairs"].get<int>() >= 100);
  CHECK(manifest["max_lengths"] == json::array({0, 16, 128}));
}

TEST_CASE("BERT WordPiece from tokenizer.json (all-MiniLM-L6-v2) encodes like HF") { check_encodings("bert-wordpiece"); }
TEST_CASE("BERT WordPiece from tokenizer.json decodes like HF") { check_decodes("bert-wordpiece"); }
TEST_CASE("BERT WordPiece from vocab.txt + tokenizer_config.json encodes like HF") { check_encodings("bert-wordpiece-vocab-txt"); }
TEST_CASE("BERT WordPiece from vocab.txt decodes like HF") { check_decodes("bert-wordpiece-vocab-txt"); }
TEST_CASE("BERT with do_lower_case, strip_accents, tokenize_chinese_chars false in tokenizer_config.json encodes like HF") {
  check_encodings("bert-wordpiece-cased-config");
}
TEST_CASE("BERT with the options off decodes like HF") { check_decodes("bert-wordpiece-cased-config"); }
TEST_CASE("RoBERTa byte-level BPE from tokenizer.json encodes like HF") { check_encodings("roberta-bpe"); }
TEST_CASE("RoBERTa byte-level BPE from tokenizer.json decodes like HF") { check_decodes("roberta-bpe"); }
TEST_CASE("RoBERTa with add_prefix_space in tokenizer_config.json encodes like HF") { check_encodings("roberta-bpe-prefix-space"); }
TEST_CASE("RoBERTa with add_prefix_space decodes like HF") { check_decodes("roberta-bpe-prefix-space"); }
TEST_CASE("RoBERTa byte-level BPE from vocab.json + merges.txt encodes like HF") { check_encodings("roberta-bpe-vocab-merges"); }
TEST_CASE("RoBERTa byte-level BPE from vocab.json + merges.txt decodes like HF") { check_decodes("roberta-bpe-vocab-merges"); }
TEST_CASE("T5 SentencePiece Unigram (trained here) from tokenizer.json + spiece.model encodes like HF") { check_encodings("t5-spm"); }
TEST_CASE("T5 SentencePiece Unigram (trained here) from tokenizer.json + spiece.model decodes like HF") { check_decodes("t5-spm"); }
TEST_CASE("T5 SentencePiece Unigram from spiece.model alone encodes like HF") { check_encodings("t5-spm-spiece-model"); }
TEST_CASE("T5 SentencePiece Unigram from spiece.model alone decodes like HF") { check_decodes("t5-spm-spiece-model"); }
TEST_CASE("real t5-small tokenizer (../shared/data) encodes like HF") { check_encodings("t5-small-real"); }
TEST_CASE("real t5-small tokenizer (../shared/data) decodes like HF") { check_decodes("t5-small-real"); }
TEST_CASE("real bert-base-uncased vocab.txt (../shared/data) encodes like HF") { check_encodings("bert-base-uncased-real"); }
TEST_CASE("real bert-base-uncased vocab.txt (../shared/data) decodes like HF") { check_decodes("bert-base-uncased-real"); }
