// BERT's tokenizer: the basic tokenizer (HF's BertNormalizer and BertPreTokenizer: clean text, CJK
// spacing, accent stripping, lower-casing, whitespace and punctuation splits), greedy longest-match-first
// WordPiece, and the "##"-joining decoder.
#pragma once

#include "tokenizer/pipeline.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace petlab::tok {

class BertNormalizer : public Normalizer {
 public:
  struct Options {
    bool clean_text = true;            ///< drop NUL, U+FFFD and control characters; whitespace becomes ' '
    bool handle_chinese_chars = true;  ///< spaces around CJK ideographs
    std::optional<bool> strip_accents; ///< unset: follows lowercase
    bool lowercase = true;
  };
  explicit BertNormalizer(Options options) : options_(options) {}
  void normalize(std::u32string& text) const override;
  const Options& options() const { return options_; }

 private:
  Options options_;
};

/// Splits on whitespace (dropped) and punctuation (each mark its own word).
class BertPreTokenizer : public PreTokenizer {
 public:
  void split(std::vector<Word>& words) const override;
};

class WordPieceModel : public Model {
 public:
  WordPieceModel(std::unordered_map<std::string, int64_t> vocab, std::string unk_token,
                 std::string continuing_subword_prefix = "##", size_t max_input_chars_per_word = 100);
  /// vocab.txt: one token per line, the line number is its id.
  static std::unordered_map<std::string, int64_t> read_vocab_txt(const std::filesystem::path& file);

  void tokenize(std::u32string_view word, std::vector<int64_t>& ids) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int64_t id) const override;
  int64_t size() const override { return static_cast<int64_t>(vocab_.size()); }

 private:
  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<int64_t, std::string> tokens_;
  std::string prefix_;
  size_t max_chars_;
  int64_t unk_id_;
};

/// Joins "##" continuations to the previous token, puts a space before the others, and optionally
/// applies HF's clean-up (" ." -> ".", " n't" -> "n't", ...).
class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  std::string decode(std::vector<std::string> tokens) const override;

 private:
  std::string prefix_;
  bool cleanup_;
};

/// HF's clean-up of tokenization spaces (tokenizers' WordPiece decoder and transformers' decode()).
std::string clean_up_tokenization(std::string text);

}  // namespace petlab::tok
