// Text to token ids and back, identical to Hugging Face's fast tokenizers for the families petlab's
// backbones use: BERT WordPiece, RoBERTa byte-level BPE and T5 SentencePiece Unigram (spiece.model read by
// libsentencepiece). A tokenizer is read from an ordinary HF model folder: tokenizer.json where present,
// else vocab.txt, vocab.json + merges.txt or spiece.model, with tokenizer_config.json and config.json as
// transformers reads them. Thread-safe: every member is const.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace petlab::tok {

/// One encoded input: token ids with the special tokens of the model's template, and the segment ids the
/// model takes (0/1 for BERT pairs; all 0 for RoBERTa and T5, which have no segment embeddings).
struct Encoding {
  std::vector<int64_t> ids;
  std::vector<int64_t> type_ids;
};

/// Encodings padded to one length, row-major [rows, cols], ready to become int64 tensors.
struct Batch {
  size_t rows = 0, cols = 0;
  std::vector<int64_t> ids, type_ids, attention_mask;
};

/// The special tokens HF names in tokenizer_config.json (or the family's defaults), where present.
struct SpecialTokens {
  std::optional<int64_t> pad, unk, bos, eos, cls, sep, mask;
};

class Tokenizer {
 public:
  virtual ~Tokenizer();

  /// Encodes `text`, or the pair (`text`, `*pair`), adding the family's special tokens. With
  /// `max_length` > 0 the result is truncated to at most that many ids, special tokens included, by
  /// HF's `longest_first` strategy. An empty pair text is still a pair (as in HF's batch call; a single
  /// transformers call would drop it). Throws petlab::Error on invalid UTF-8 (naming the byte offset) or
  /// a `max_length` smaller than the special tokens alone.
  virtual Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                          size_t max_length = 0) const = 0;

  /// encode() for every text (and pair, when `pairs` is non-empty: it must have as many entries).
  std::vector<Encoding> encode_batch(std::span<const std::string> texts, std::span<const std::string> pairs = {},
                                     size_t max_length = 0) const;

  /// Ids back to text as HF's decode() does: special tokens skipped on request, "##" pieces joined,
  /// byte-level pieces turned back into UTF-8, "▁" into spaces. Ids with no token (e.g. T5's padded
  /// output rows past the vocabulary) are dropped like HF drops them.
  virtual std::string decode(std::span<const int64_t> ids, bool skip_special_tokens = true) const = 0;

  /// Number of ids, added tokens included (HF's len(tokenizer)).
  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int64_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(int64_t id) const = 0;
  virtual const SpecialTokens& special_tokens() const = 0;
  /// The padding id; throws petlab::Error for a tokenizer that has no pad token.
  int64_t pad_id() const;
  /// How many special tokens encode() adds to one text (pair = false) or a pair.
  virtual size_t num_special_tokens(bool pair) const = 0;
  /// tokenizer_config.json's model_max_length, when it names one.
  virtual std::optional<size_t> model_max_length() const = 0;
};

/// Reads the tokenizer of an HF model folder. Throws petlab::Error naming the folder and what was looked
/// for when no tokenizer files are there, the file and key when one is malformed.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_dir);

/// Right-pads encodings to the longest (rounded up to a multiple of `pad_to_multiple_of`).
Batch pad_batch(std::span<const Encoding> encodings, int64_t pad_id, size_t pad_to_multiple_of = 1);

}  // namespace petlab::tok
