// Post-processing: where a family puts its special tokens and segment ids (BERT [CLS] a [SEP] b [SEP]
// with type ids 0/1; RoBERTa <s> a </s></s> b </s>; T5 a </s> b </s>), and truncation of the content
// to a max length that counts them, as HF's `longest_first`.
#pragma once

#include "tokenizer/tokenizer.hpp"

#include <cstdint>
#include <vector>

namespace petlab::tok {

class Template {
 public:
  struct Item {
    enum class Kind { A, B, Special } kind;
    std::vector<int64_t> ids;  ///< Special only
    int64_t type_id = 0;
  };

  Template() = default;
  Template(std::vector<Item> single, std::vector<Item> pair) : single_(std::move(single)), pair_(std::move(pair)) {}

  static Template none();                           ///< no special tokens: A / A B:1 (HF without post-processor)
  static Template bert(int64_t cls, int64_t sep);     ///< [CLS] A [SEP] / [CLS] A [SEP] B:1 [SEP]:1
  static Template roberta(int64_t cls, int64_t sep);  ///< <s> A </s> / <s> A </s> </s> B </s>, all type 0
  static Template t5(int64_t eos);                    ///< A </s> / A </s> B </s>

  size_t added_tokens(bool pair) const;
  /// Truncates `a` (and `b`) so that the result of apply() has at most `max_length` ids (0: unlimited).
  void truncate(std::vector<int64_t>& a, std::vector<int64_t>* b, size_t max_length) const;
  Encoding apply(const std::vector<int64_t>& a, const std::vector<int64_t>* b) const;

 private:
  std::vector<Item> single_, pair_;
};

/// HF's LongestFirst rule for two sequences whose total must not exceed `budget`.
void truncate_longest_first(std::vector<int64_t>& a, std::vector<int64_t>* b, size_t budget);

}  // namespace petlab::tok
