// The generic steps tokenizer.json may chain around a model's own: Strip, Replace, Lowercase, Unicode
// normal forms, StripAccents, and the WhitespaceSplit pre-tokenizer.
#pragma once

#include "tokenizer/pipeline.hpp"

#include <string>

namespace petlab::tok {

/// Removes Unicode whitespace at either end.
class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::u32string& text) const override;

 private:
  bool left_, right_;
};

/// Replaces every non-overlapping occurrence of a pattern, leftmost first. A pattern is a literal, or one
/// of the regexes HF's converters write: a single character with a repetition (" {2,}", "x+", "a{3}").
class ReplaceNormalizer : public Normalizer {
 public:
  static ReplaceNormalizer literal(const std::string& pattern, const std::string& content);
  /// Throws petlab::Error for a regex outside the supported form.
  static ReplaceNormalizer regex(const std::string& pattern, const std::string& content);
  void normalize(std::u32string& text) const override;

 private:
  std::u32string literal_;
  char32_t repeated_ = 0;
  size_t min_ = 0, max_ = 0;  ///< repetitions of `repeated_` (max_ 0: unbounded)
  std::u32string content_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(std::u32string& text) const override;
};

class UnicodeFormNormalizer : public Normalizer {
 public:
  explicit UnicodeFormNormalizer(std::string form) : form_(std::move(form)) {}
  void normalize(std::u32string& text) const override;

 private:
  std::string form_;
};

/// Removes non-spacing marks (callers decompose first, as HF's StripAccents expects).
class StripAccentsNormalizer : public Normalizer {
 public:
  void normalize(std::u32string& text) const override;
};

/// Splits on Unicode whitespace, dropping it.
class WhitespaceSplit : public PreTokenizer {
 public:
  void split(std::vector<Word>& words) const override;
};

}  // namespace petlab::tok
