// T5's SentencePiece Unigram inside HF's pipeline: the Precompiled normaliser (SentencePiece's character
// map, applied per grapheme the way HF's tokenizers applies it), Metaspace pre-tokenisation (spaces become
// "▁", words split before each "▁"), the Unigram model and the Metaspace decoder.
//
// libsentencepiece loads and validates spiece.model and supplies its pieces and scores. The best
// segmentation is computed here, with HF's Viterbi: libsentencepiece 0.1.97 sums path scores in float32,
// so among (near-)equal segmentations it can pick another one than HF, which sums in float64 and keeps the
// first best path it finds ("1,000" in a small vocabulary: "0"+"00" for HF, "00"+"0" for libsentencepiece).
#pragma once

#include "tokenizer/pipeline.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace petlab::tok {

/// What petlab reads from an spiece.model (a serialized sentencepiece.ModelProto): the pieces through
/// libsentencepiece, the specs it does not expose (model type, byte fallback, character map) from the proto.
struct SpmModelFile {
  enum class PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };
  struct Piece {
    std::string text;
    float score = 0;
    PieceType type = PieceType::Normal;
  };
  std::filesystem::path path;
  std::vector<Piece> pieces;
  int model_type = 1;  ///< 1 Unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  int64_t unk_id = 0;
  std::string precompiled_charsmap;

  /// Reads and parses the file; throws petlab::Error naming it when it is not a SentencePiece Unigram
  /// model petlab can run (BPE models and byte fallback are refused).
  static SpmModelFile read(const std::filesystem::path& path);
};

class PrecompiledNormalizer : public Normalizer {
 public:
  /// `charsmap`: SentencePiece's precompiled_charsmap blob. Throws petlab::Error when malformed.
  explicit PrecompiledNormalizer(std::string charsmap);
  void normalize(std::u32string& text) const override;

 private:
  /// The replacement for the shortest prefix of `utf8` the map has a rule for, applied to all of it.
  std::optional<std::string_view> transform(std::string_view utf8) const;
  std::vector<uint32_t> units_;
  std::string normalized_;
};

enum class PrependScheme { Always, First, Never };
PrependScheme parse_prepend_scheme(const std::string& name);  ///< throws petlab::Error on other names

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme prepend, bool split)
      : replacement_(replacement), prepend_(prepend), split_(split) {}
  void split(std::vector<Word>& words) const override;

 private:
  char32_t replacement_;
  PrependScheme prepend_;
  bool split_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, PrependScheme prepend) : replacement_(replacement), prepend_(prepend) {}
  std::string decode(std::vector<std::string> tokens) const override;

 private:
  char32_t replacement_;
  PrependScheme prepend_;
};

/// HF's Unigram model: the highest-scoring segmentation of each word (float64 sums, the first best path
/// found wins), characters no piece covers scored as unknown and consecutive unknowns fused into one.
class UnigramModel : public Model {
 public:
  struct Piece {
    std::string text;
    double score;
  };
  /// `pieces` in id order.
  UnigramModel(std::vector<Piece> pieces, int64_t unk_id);

  void tokenize(std::u32string_view word, std::vector<int64_t>& ids) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int64_t id) const override;
  int64_t size() const override { return static_cast<int64_t>(pieces_.size()); }

 private:
  std::vector<Piece> pieces_;
  std::unordered_map<std::string, int64_t> ids_;
  size_t max_piece_bytes_ = 0;
  int64_t unk_id_;
  double unk_score_;
};

}  // namespace petlab::tok
