// Corpus BLEU as sacrebleu 2.x computes it with its defaults: 13a tokenisation, no lower-casing, up to
// 4-grams, clipping against the max count over references, the closest reference length (shorter on
// ties), and 'exp' smoothing. Scores are on sacrebleu's 0-100 scale.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace petlab::tasks::bleu {

/// sacrebleu's Tokenizer13a applied to one (already rstripped) segment.
std::string tokenize_13a(std::string_view line);

struct Result {
  double score = 0;
  std::vector<long long> counts;  ///< matched n-grams per order
  std::vector<long long> totals;  ///< hypothesis n-grams per order
  long long sys_len = 0;
  long long ref_len = 0;
};

/// `references[i]` holds every reference of hypothesis i (any number, at least one for a useful score).
Result corpus_bleu(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& references);

}  // namespace petlab::tasks::bleu
