// Bad tokenizer folders and bad input text: each is refused with its own message (naming the folder, file,
// key or byte offset), never a crash.
#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "temp_folder.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace fs = std::filesystem;
using nlohmann::json;
using petlab::Error;
using petlab::testing::TempFolder;
using petlab::tok::load_tokenizer;

namespace {

/// The message load_tokenizer (or `f`) throws; fails the test when nothing is thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected a petlab::Error");
  return {};
}
std::string load_error(const fs::path& dir) {
  return error_of([&] { load_tokenizer(dir); });
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// A small but complete WordPiece tokenizer.json.
json tiny_wordpiece() {
  json added = json::array();
  for (auto [id, content] : {std::pair{0, "[PAD]"}, {1, "[UNK]"}, {2, "[CLS]"}, {3, "[SEP]"}})
    added.push_back({{"id", id}, {"content", content}, {"special", true}, {"normalized", false},
                     {"single_word", false}, {"lstrip", false}, {"rstrip", false}});
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", true}}},
          {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
          {"post_processor", {{"type", "BertProcessing"}, {"cls", json::array({"[CLS]", 2})}, {"sep", json::array({"[SEP]", 3})}}},
          {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
          {"model",
           {{"type", "WordPiece"},
            {"unk_token", "[UNK]"},
            {"vocab", {{"[PAD]", 0}, {"[UNK]", 1}, {"[CLS]", 2}, {"[SEP]", 3}, {"hello", 4}, {"world", 5}, {"##s", 6}, {",", 7}}}}}};
}

}  // namespace

TEST_CASE("the tiny WordPiece tokenizer the other cases break works when intact") {
  TempFolder dir;
  dir.write("tokenizer.json", tiny_wordpiece().dump());
  const auto tok = load_tokenizer(dir.path());
  // lower-cased, "," split off, "worlds" = "world" + "##s", an unknown word is one [UNK]
  CHECK(tok->encode("Hello, WORLDS xyz").ids == std::vector<int64_t>{2, 4, 7, 5, 6, 1, 3});
  CHECK(tok->pad_id() == 0);
}

TEST_CASE("a folder that does not exist is named") {
  const std::string msg = load_error("/nonexistent/petlab-model");
  CHECK(contains(msg, "/nonexistent/petlab-model"));
  CHECK(contains(msg, "does not exist"));
}

TEST_CASE("a file instead of a folder is refused") {
  TempFolder dir;
  dir.write("vocab.txt", "[UNK]\n");
  CHECK(contains(load_error(dir.path() / "vocab.txt"), "is not a folder"));
}

TEST_CASE("a folder without tokenizer files lists every file that was looked for") {
  TempFolder dir;
  dir.write("config.json", R"({"hidden_size": 8})");
  const std::string msg = load_error(dir.path());
  CHECK(contains(msg, dir.path().string()));
  for (const char* f : {"tokenizer.json", "vocab.txt", "vocab.json + merges.txt", "spiece.model"})
    CHECK_MESSAGE(contains(msg, f), msg);
}

TEST_CASE("vocab.json without merges.txt says which file is missing") {
  TempFolder dir;
  dir.write("vocab.json", R"({"a": 0})");
  CHECK(contains(load_error(dir.path()), "vocab.json is there without merges.txt"));
}

TEST_CASE("a RoBERTa folder with only a BERT vocabulary asks for RoBERTa's files") {
  TempFolder dir;
  dir.write("config.json", R"({"model_type": "roberta"})");
  dir.write("vocab.txt", "[UNK]\nhello\n");
  const std::string msg = load_error(dir.path());
  CHECK(contains(msg, "RoBERTa"));
  CHECK(contains(msg, "vocab.json + merges.txt"));
}

TEST_CASE("tokenizer.json that is not JSON is named") {
  TempFolder dir;
  dir.write("tokenizer.json", "{\"model\": ");
  const std::string msg = load_error(dir.path());
  CHECK(contains(msg, "tokenizer.json is not valid JSON"));
}

TEST_CASE("a missing key of tokenizer.json is named with its path") {
  TempFolder dir;
  json j = tiny_wordpiece();
  j.erase("model");
  dir.write("tokenizer.json", j.dump());
  CHECK(contains(load_error(dir.path()), "key 'model' is missing"));
  j = tiny_wordpiece();
  j["post_processor"].erase("sep");
  dir.write("tokenizer.json", j.dump());
  CHECK(contains(load_error(dir.path()), "key 'post_processor.sep' is missing"));
}

TEST_CASE("a mistyped value of tokenizer.json names the key and the expected type") {
  TempFolder dir;
  json j = tiny_wordpiece();
  j["model"]["vocab"] = json::array({"hello"});
  dir.write("tokenizer.json", j.dump());
  const std::string msg = load_error(dir.path());
  CHECK(contains(msg, "'model.vocab' must be an object"));
  CHECK(contains(msg, "not array"));
  j = tiny_wordpiece();
  j["added_tokens"][1]["id"] = "one";
  dir.write("tokenizer.json", j.dump());
  CHECK(contains(load_error(dir.path()), "'added_tokens[1].id' must be an integer"));
}

TEST_CASE("an unsupported component type is refused by name, with the supported ones") {
  TempFolder dir;
  json j = tiny_wordpiece();
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NMT"}}})}};
  dir.write("tokenizer.json", j.dump());
  const std::string msg = load_error(dir.path());
  CHECK(contains(msg, "normalizer type 'NMT' at 'normalizer.normalizers[0]' is not supported"));
  CHECK(contains(msg, "BertNormalizer"));
  j = tiny_wordpiece();
  j["model"]["type"] = "WordLevel";
  dir.write("tokenizer.json", j.dump());
  CHECK(contains(load_error(dir.path()), "model type 'WordLevel' is not supported"));
}

TEST_CASE("a vocabulary without its unknown token is refused") {
  TempFolder dir;
  json j = tiny_wordpiece();
  j["model"]["vocab"].erase("[UNK]");
  dir.write("tokenizer.json", j.dump());
  CHECK(contains(load_error(dir.path()), "unknown token '[UNK]' is not in the vocabulary"));
  TempFolder legacy;
  legacy.write("vocab.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n");
  CHECK(contains(load_error(legacy.path()), "unknown token '[UNK]' is not in the vocabulary"));
}

TEST_CASE("a BPE merge with a token outside the vocabulary names the merge and the token") {
  TempFolder dir;
  dir.write("vocab.json", R"({"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4, "a": 5, "b": 6, "ab": 7})");
  dir.write("merges.txt", "#version: 0.2\na b\na c\n");
  const std::string msg = load_error(dir.path());
  CHECK(contains(msg, "BPE merge 2 ('a' 'c')"));
  CHECK(contains(msg, "'c', which is not in the vocabulary"));
  dir.write("merges.txt", "#version: 0.2\na b c\n");
  CHECK(contains(load_error(dir.path()), "merges.txt line 2: expected two tokens separated by one space"));
}

TEST_CASE("an spiece.model that is not a SentencePiece model is named") {
  TempFolder dir;
  dir.write("spiece.model", "this is not a protobuf");
  const std::string msg = load_error(dir.path());
  CHECK(contains(msg, (dir.path() / "spiece.model").string()));
  CHECK(contains(msg, "is not a SentencePiece model"));
}

TEST_CASE("invalid UTF-8 in the input names the byte offset and never crashes") {
  TempFolder dir;
  dir.write("tokenizer.json", tiny_wordpiece().dump());
  const auto tok = load_tokenizer(dir.path());
  CHECK(error_of([&] { tok->encode("ab\xFF" "c"); }) ==
        "text is not valid UTF-8: byte 0xFF at byte offset 2 does not start a well-formed character");
  CHECK(contains(error_of([&] { tok->encode("hello \xE2\x82"); }), "at byte offset 6 is cut off by the end of the text"));
  CHECK(contains(error_of([&] { tok->encode("\xC0\xAF"); }), "byte 0xC0 at byte offset 0"));       // overlong '/'
  CHECK(contains(error_of([&] { tok->encode("x\xED\xA0\x80"); }), "byte 0xED at byte offset 1"));  // a surrogate
  CHECK(contains(error_of([&] { tok->encode("fine", std::string_view("bad\x80")); }),
                 "pair text is not valid UTF-8: byte 0x80 at byte offset 3"));
}

TEST_CASE("a max_length shorter than the special tokens is refused") {
  TempFolder dir;
  dir.write("tokenizer.json", tiny_wordpiece().dump());
  const auto tok = load_tokenizer(dir.path());
  CHECK(error_of([&] { tok->encode("hello", std::nullopt, 1); }) ==
        "max_length 1 is smaller than the 2 special tokens one text needs");
  CHECK(error_of([&] { tok->encode("hello", "world", 2); }) ==
        "max_length 2 is smaller than the 3 special tokens a pair of texts needs");
  CHECK(tok->encode("hello world", std::nullopt, 2).ids == std::vector<int64_t>{2, 3});  // room for no content
}

TEST_CASE("encode_batch refuses a pair list of another length") {
  TempFolder dir;
  dir.write("tokenizer.json", tiny_wordpiece().dump());
  const auto tok = load_tokenizer(dir.path());
  const std::vector<std::string> texts{"hello", "world"}, pairs{"hello"};
  CHECK(contains(error_of([&] { tok->encode_batch(texts, pairs); }), "2 texts but 1 pair texts"));
}

TEST_CASE("decode refuses negative ids and drops ids past the vocabulary") {
  TempFolder dir;
  dir.write("tokenizer.json", tiny_wordpiece().dump());
  const auto tok = load_tokenizer(dir.path());
  CHECK(contains(error_of([&] { tok->decode(std::vector<int64_t>{4, -1}); }), "token id -1"));
  CHECK(tok->decode(std::vector<int64_t>{4, 99, 5}) == "hello world");
}
