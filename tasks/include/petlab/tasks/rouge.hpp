// ROUGE as rouge-score 0.1.2 computes it: its tokeniser (lower-case, non-[a-z0-9] to spaces, Porter stems
// for tokens longer than 3 characters), n-gram overlap, LCS, and summary-level LCS over "\n"-split sentences.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace petlab::tasks::rouge {

/// NLTK's PorterStemmer in its default NLTK_EXTENSIONS mode (the one rouge-score uses).
std::string porter_stem(std::string_view word);

/// rouge-score's tokenize.tokenize(text, stemmer or None).
std::vector<std::string> tokenize(std::string_view text, bool use_stemmer);

struct Score {
  double precision = 0;
  double recall = 0;
  double fmeasure = 0;
};

struct Scores {
  Score rouge1, rouge2, rougeL, rougeLsum;
};

/// RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer).score(target, prediction).
Scores score(std::string_view target, std::string_view prediction, bool use_stemmer);
/// score_multi: for each type, the target with the highest F-measure (first on ties).
Scores score_multi(const std::vector<std::string>& targets, std::string_view prediction, bool use_stemmer);

}  // namespace petlab::tasks::rouge
