// Tokens matched as a whole before anything else runs ([CLS], <mask>, </s>, <extra_id_0>, ...), with
// HF's AddedVocabulary rules: leftmost-longest matches, tokens that are not `normalized` matched on the
// raw text, the others on the normalised text, and the single_word / lstrip / rstrip options.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace petlab::tok {

struct AddedToken {
  std::string content;
  int64_t id = -1;  ///< assigned by AddedVocabulary::add when negative
  bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

class AddedVocabulary {
 public:
  struct Segment {
    std::u32string text;
    std::optional<int64_t> id;  ///< set when the segment is an added token
    size_t start = 0;           ///< offset (in characters) of the segment in the text that was split
  };

  /// Adds a token (a repeated content updates its flags). Its id is the model's id for the content, or
  /// the next free id past `model_size` and the tokens added so far.
  void add(AddedToken token, const std::function<std::optional<int64_t>(const std::string&)>& model_id,
           int64_t model_size);
  /// Prepares matching; `normalize` is the tokenizer's normaliser, applied to `normalized` tokens.
  void finalize(const std::function<void(std::u32string&)>& normalize);

  /// Splits raw text by the tokens that are not normalised (pass = Raw) or normalised text by the others.
  enum class Pass { Raw, Normalized };
  std::vector<Segment> split(const std::u32string& text, Pass pass) const;

  std::optional<int64_t> id_of(std::string_view content) const;
  const AddedToken* by_id(int64_t id) const;
  bool is_special(std::string_view content) const;
  /// Added tokens whose id is past the model's vocabulary.
  int64_t count_beyond(int64_t model_size) const;
  bool empty() const { return tokens_.empty(); }

 private:
  struct Pattern {
    std::u32string text;
    size_t token;  ///< index into tokens_
  };
  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, size_t> by_content_;
  std::unordered_map<int64_t, size_t> by_id_;
  std::vector<Pattern> raw_, normalized_;  ///< sorted by first character, longest first
};

}  // namespace petlab::tok
