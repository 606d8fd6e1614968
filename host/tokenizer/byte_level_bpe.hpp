// GPT-2 / RoBERTa byte-level BPE: the pre-tokenizer (optional prefix space, GPT-2's split regex, every
// UTF-8 byte mapped to a printable character), the BPE model with ranked merges, and the decoder that
// maps characters back to bytes.
#pragma once

#include "tokenizer/pipeline.hpp"

#include <filesystem>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace petlab::tok {

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {}
  void split(std::vector<Word>& words) const override;
  bool add_prefix_space() const { return add_prefix_space_; }
  void set_add_prefix_space(bool v) { add_prefix_space_ = v; }

 private:
  bool add_prefix_space_, use_regex_;
};

/// The pieces GPT-2's pattern 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// cuts `text` into, as [begin, end) character offsets.
std::vector<std::pair<size_t, size_t>> gpt2_split(std::u32string_view text);

class BpeModel : public Model {
 public:
  struct Options {
    std::optional<std::string> unk_token;
    std::string continuing_subword_prefix, end_of_word_suffix;
    bool ignore_merges = false;
  };
  /// Merges in rank order; each pair's concatenation must be in the vocabulary.
  BpeModel(std::unordered_map<std::string, int64_t> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
           Options options);
  static std::unordered_map<std::string, int64_t> read_vocab_json(const std::filesystem::path& file);
  static std::vector<std::pair<std::string, std::string>> read_merges_txt(const std::filesystem::path& file);

  void tokenize(std::u32string_view word, std::vector<int64_t>& ids) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int64_t id) const override;
  int64_t size() const override { return static_cast<int64_t>(vocab_.size()); }

 private:
  struct Merge {
    int32_t rank;
    int64_t id;
  };
  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<int64_t, std::string> tokens_;
  std::unordered_map<uint64_t, Merge> merges_;  ///< key: (left id << 32) | right id
  Options options_;
};

/// Maps each character back to its byte (characters outside the byte map are kept as UTF-8), then
/// repairs invalid UTF-8 with U+FFFD, as HF's ByteLevel decoder does.
class ByteLevelDecoder : public Decoder {
 public:
  std::string decode(std::vector<std::string> tokens) const override;
};

}  // namespace petlab::tok
