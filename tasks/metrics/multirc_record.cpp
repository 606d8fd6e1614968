// MultiRC (EM per question, F1 over answer options) and ReCoRD (SQuAD-normalised EM/F1, max over answers).
#include "petlab/tasks/error.hpp"
#include "petlab/tasks/metrics.hpp"
#include "petlab/tasks/text.hpp"

#include <map>
#include <unordered_map>

namespace petlab::tasks::metrics {

MultiRcScores multirc(const std::vector<std::string>& question_ids, const std::vector<int>& truth,
                      const std::vector<int>& predicted) {
  if (question_ids.size() != truth.size() || truth.size() != predicted.size())
    throw DataError("multirc: question ids, labels and predictions differ in length");
  std::map<std::string, bool> all_right;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    auto [it, inserted] = all_right.try_emplace(question_ids[i], true);
    it->second = it->second && truth[i] == predicted[i];
  }
  MultiRcScores s;
  long long right = 0;
  for (const auto& [q, ok] : all_right) right += ok;
  s.exact_match = all_right.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(all_right.size());
  s.f1a = binary_f1(truth, predicted);
  return s;
}

std::string normalize_answer(const std::string& s) {
  // lower -> drop string.punctuation -> articles to spaces (\b(a|an|the)\b, Unicode word boundaries)
  // -> " ".join(split()), in the order of the official script.
  std::u32string t = text::lower(text::decode(s));
  std::u32string no_punct;
  for (char32_t c : t) {
    const bool ascii_punct = c < 128 && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                                         (c >= 123 && c <= 126));
    if (!ascii_punct) no_punct.push_back(c);
  }
  const auto is_word = text::is_python_word_char;
  std::u32string out;
  const std::size_t n = no_punct.size();
  for (std::size_t i = 0; i < n;) {
    bool matched = false;
    for (std::u32string_view article : {std::u32string_view(U"the"), std::u32string_view(U"an"), std::u32string_view(U"a")}) {
      if (no_punct.compare(i, article.size(), article) != 0) continue;
      const bool left = i == 0 || !is_word(no_punct[i - 1]);
      const std::size_t end = i + article.size();
      const bool right = end == n || !is_word(no_punct[end]);
      if (left && right) {
        out.push_back(U' ');
        i = end;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back(no_punct[i++]);
  }
  std::string joined;
  for (const auto& w : text::split_whitespace(text::encode(out))) joined += (joined.empty() ? "" : " ") + w;
  return joined;
}

double answer_exact_match(const std::string& prediction, const std::string& gold) {
  return normalize_answer(prediction) == normalize_answer(gold) ? 1.0 : 0.0;
}

double answer_f1(const std::string& prediction, const std::string& gold) {
  const auto p = text::split_whitespace(normalize_answer(prediction));
  const auto g = text::split_whitespace(normalize_answer(gold));
  std::unordered_map<std::string, long long> gold_counts;
  for (const auto& w : g) ++gold_counts[w];
  long long same = 0;
  for (const auto& w : p) {
    auto it = gold_counts.find(w);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  const double precision = static_cast<double>(same) / static_cast<double>(p.size());
  const double recall = static_cast<double>(same) / static_cast<double>(g.size());
  return 2 * precision * recall / (precision + recall);
}

double max_over_answers(double (*metric)(const std::string&, const std::string&), const std::string& prediction,
                        const std::vector<std::string>& answers) {
  double best = 0;
  for (const auto& a : answers) best = std::max(best, metric(prediction, a));
  return best;
}

}  // namespace petlab::tasks::metrics
