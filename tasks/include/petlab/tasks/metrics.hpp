// Metrics, each computed as its reference library computes it (parity tests hold them to 1e-6):
// classification and MultiRC as scikit-learn, correlations as scipy.stats, ReCoRD as its official script.
// Values are fractions in [0, 1] (correlations in [-1, 1]); tasks scale them to percent when reporting.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace petlab::tasks::metrics {

double accuracy(const std::vector<int>& truth, const std::vector<int>& predicted);
/// F1 of class 1 (sklearn f1_score, binary, zero_division=0).
double binary_f1(const std::vector<int>& truth, const std::vector<int>& predicted);
/// Unweighted mean of per-class F1 over the classes present in truth or predictions (sklearn "macro").
double macro_f1(const std::vector<int>& truth, const std::vector<int>& predicted);
/// Matthews correlation, multiclass form (sklearn matthews_corrcoef; 0 when undefined).
double matthews_corrcoef(const std::vector<int>& truth, const std::vector<int>& predicted);

double pearson(const std::vector<double>& x, const std::vector<double>& y);
/// Pearson on average ranks (ties share their mean rank, as scipy.stats.spearmanr).
double spearman(const std::vector<double>& x, const std::vector<double>& y);

/// MultiRC: exact match per question (every answer option right) and F1 over all answer options.
struct MultiRcScores {
  double exact_match = 0;
  double f1a = 0;
};
MultiRcScores multirc(const std::vector<std::string>& question_ids, const std::vector<int>& truth,
                      const std::vector<int>& predicted);

/// ReCoRD / SQuAD answer normalisation: lower-case, drop ASCII punctuation and articles, squeeze spaces.
std::string normalize_answer(const std::string& s);
double answer_exact_match(const std::string& prediction, const std::string& gold);
double answer_f1(const std::string& prediction, const std::string& gold);
/// Max over the gold answers (0 when there are none).
double max_over_answers(double (*metric)(const std::string&, const std::string&), const std::string& prediction,
                        const std::vector<std::string>& answers);

}  // namespace petlab::tasks::metrics
