// Decoding gives the text back (up to each family's normalisation), special tokens and padding are where
// models expect them, and truncation splits a pair the way HF's own unit tests say.
#include "tokenizer/templates.hpp"
#include "tokenizer/tokenizer.hpp"
#include "temp_folder.hpp"

#include <doctest/doctest.h>

#include <filesystem>

namespace fs = std::filesystem;
using petlab::tok::load_tokenizer;

namespace {
// Tokenizer folders the tokenizer_cases fixture writes (scripts/reference/tokenizer_assets.py).
const fs::path kAssets = fs::path(PETLAB_FIXTURE_DIR) / "tokenizer_cases" / "assets";
const fs::path kRealT5 = fs::path(PETLAB_SHARED_DATA) / "tokenizers" / "t5";

std::vector<int64_t> truncated(size_t n1, size_t n2, size_t budget) {
  std::vector<int64_t> a(n1), b(n2);
  petlab::tok::truncate_longest_first(a, &b, budget);
  return {static_cast<int64_t>(a.size()), static_cast<int64_t>(b.size())};
}
}  // namespace

TEST_CASE("longest_first splits a pair's budget as HF's truncation tests expect") {
  // tokenizers/src/utils/truncation.rs, truncate_encodings_longest_first: lengths 0, 2, 4, 8; max 7.
  CHECK(truncated(0, 8, 7) == std::vector<int64_t>{0, 7});
  CHECK(truncated(2, 8, 7) == std::vector<int64_t>{2, 5});
  CHECK(truncated(4, 4, 7) == std::vector<int64_t>{3, 4});
  CHECK(truncated(4, 8, 7) == std::vector<int64_t>{3, 4});
  CHECK(truncated(8, 2, 7) == std::vector<int64_t>{5, 2});
  CHECK(truncated(8, 4, 7) == std::vector<int64_t>{4, 3});
  CHECK(truncated(8, 8, 7) == std::vector<int64_t>{3, 4});
  CHECK(truncated(4, 2, 7) == std::vector<int64_t>{4, 2});  // fits: untouched
}

TEST_CASE("WordPiece decodes to the lower-cased, accent-stripped text with ## pieces joined") {
  const auto tok = load_tokenizer(kAssets / "wordpiece");
  const auto e = tok->encode("Tokenizers handle Café, naïvely!");
  CHECK(tok->decode(e.ids) == "tokenizers handle cafe, naively!");
  CHECK(tok->decode(e.ids, false) == "[CLS] tokenizers handle cafe, naively! [SEP]");
  const auto& s = tok->special_tokens();
  CHECK(s.pad == 0);
  CHECK(s.cls == 101);
  CHECK(s.sep == 102);
  CHECK(s.mask == 103);
  CHECK(tok->num_special_tokens(false) == 2);
  CHECK(tok->num_special_tokens(true) == 3);
  CHECK(tok->model_max_length() == 512);
}

TEST_CASE("byte-level BPE decodes any UTF-8 text back byte for byte") {
  const auto tok = load_tokenizer(kAssets / "bpe");
  for (const std::string text : {"Hello, world!", "  leading and trailing  ", "tabs\tand\nnewlines\r\n",
                                 "emoji 🙂👍🏽 and 北京 and Ελληνικά", "don't STOP", "\u00a0\u200b odd spaces"}) {
    const auto e = tok->encode(text);
    CHECK(e.ids.front() == *tok->special_tokens().bos);
    CHECK(e.ids.back() == *tok->special_tokens().eos);
    CHECK(tok->decode(e.ids) == text);
  }
}

TEST_CASE("byte-level BPE decodes a cut multi-byte character as U+FFFD") {
  const auto tok = load_tokenizer(kAssets / "bpe");
  // Each byte of a rare character is its own byte-level token; keep only the first of the four.
  const auto e = tok->encode("\U0001F9EC");
  REQUIRE(e.ids.size() >= 3);
  CHECK(tok->decode(std::vector<int64_t>{e.ids[1]}) == "\uFFFD");
}

TEST_CASE("T5 SentencePiece decodes to the text, skips </s>, and drops ids past the vocabulary") {
  const auto tok = load_tokenizer(kAssets / "spm");
  const std::string text = "The model tuned only a few parameters, yet it matched full fine-tuning.";
  const auto e = tok->encode(text);
  CHECK(e.ids.back() == *tok->special_tokens().eos);
  CHECK(tok->decode(e.ids) == text);
  auto padded = e.ids;
  padded.push_back(tok->vocab_size() + 5);  // T5's embedding has rows past the tokenizer's vocabulary
  CHECK(tok->decode(padded) == text);
  CHECK(tok->decode(e.ids, false) == text + "</s>");
  CHECK(tok->token_to_id("<extra_id_0>") == tok->vocab_size() - 1);
  CHECK(tok->decode(tok->encode("<extra_id_0> fills").ids, false) == "<extra_id_0> fills</s>");
}

TEST_CASE("the real t5-small tokenizer round-trips a task prompt") {
  if (!fs::exists(kRealT5 / "tokenizer.json")) {
    MESSAGE("skipped: " << kRealT5 << " is absent");
    return;
  }
  const auto tok = load_tokenizer(kRealT5);
  const std::string text = "translate English to German: The house is wonderful.";
  const auto e = tok->encode(text);
  CHECK(tok->decode(e.ids) == text);
  CHECK(tok->vocab_size() == 32100);
  CHECK(tok->pad_id() == 0);
}

TEST_CASE("a T5 tokenizer.json works without spiece.model and gives the same ids") {
  petlab::testing::TempFolder dir;
  dir.copy_from(kAssets / "spm" / "tokenizer.json");
  dir.copy_from(kAssets / "spm" / "tokenizer_config.json");
  const auto alone = load_tokenizer(dir.path());
  const auto full = load_tokenizer(kAssets / "spm");
  for (const std::string text : {"Hello world", "北京 1,000,000 café", "  spaced   out  "})
    CHECK(alone->encode(text).ids == full->encode(text).ids);
}

TEST_CASE("batches are encoded one by one and right-padded with an attention mask") {
  const auto tok = load_tokenizer(kAssets / "wordpiece");
  const std::vector<std::string> texts{"a short one", "a somewhat longer second sentence here"}, pairs{"x", "y"};
  const auto encodings = tok->encode_batch(texts, pairs, 8);
  REQUIRE(encodings.size() == 2);
  CHECK(encodings[0].ids == tok->encode(texts[0], pairs[0], 8).ids);
  CHECK(encodings[1].ids.size() == 8);
  const auto batch = petlab::tok::pad_batch(encodings, tok->pad_id(), 4);
  CHECK(batch.rows == 2);
  CHECK(batch.cols == 8);
  const size_t n0 = encodings[0].ids.size();
  for (size_t c = 0; c < batch.cols; ++c) {
    CHECK(batch.attention_mask[c] == (c < n0 ? 1 : 0));
    CHECK(batch.ids[c] == (c < n0 ? encodings[0].ids[c] : tok->pad_id()));
    CHECK(batch.attention_mask[batch.cols + c] == 1);
  }
  CHECK(batch.type_ids[batch.cols + 7] == 1);  // the pair's final [SEP]
}
