// ROUGE as rouge-score 0.1.2 computes it (see rouge.hpp).
#include "petlab/tasks/rouge.hpp"
#include "petlab/tasks/text.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace petlab::tasks::rouge {

std::vector<std::string> tokenize(std::string_view text_in, bool use_stemmer) {
  // Python lower() first (so e.g. the Kelvin sign becomes 'k'), then every run of characters outside
  // [a-z0-9] separates tokens.
  const std::u32string lowered = text::lower(text::decode(text_in));
  std::vector<std::string> tokens;
  std::string current;
  for (char32_t c : lowered) {
    if ((c >= U'a' && c <= U'z') || (c >= U'0' && c <= U'9')) {
      current.push_back(static_cast<char>(c));
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  if (use_stemmer)
    for (auto& t : tokens)
      if (t.size() > 3) t = porter_stem(t);
  return tokens;
}

namespace {

double fmeasure(double precision, double recall) {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

Score make_score(double precision, double recall) { return {precision, recall, fmeasure(precision, recall)}; }

Score ngram_score(const std::vector<std::string>& target, const std::vector<std::string>& prediction, std::size_t n) {
  const auto count = [n](const std::vector<std::string>& tokens) {
    std::map<std::vector<std::string>, long long> grams;
    for (std::size_t i = 0; i + n <= tokens.size(); ++i)
      ++grams[std::vector<std::string>(tokens.begin() + static_cast<long>(i), tokens.begin() + static_cast<long>(i + n))];
    return grams;
  };
  const auto t = count(target), p = count(prediction);
  long long overlap = 0, t_total = 0, p_total = 0;
  for (const auto& [g, c] : t) {
    t_total += c;
    if (auto it = p.find(g); it != p.end()) overlap += std::min(c, it->second);
  }
  for (const auto& [g, c] : p) p_total += c;
  return make_score(static_cast<double>(overlap) / static_cast<double>(std::max(p_total, 1LL)),
                    static_cast<double>(overlap) / static_cast<double>(std::max(t_total, 1LL)));
}

using Table = std::vector<std::vector<int>>;

Table lcs_table(const std::vector<std::string>& ref, const std::vector<std::string>& can) {
  Table t(ref.size() + 1, std::vector<int>(can.size() + 1, 0));
  for (std::size_t i = 1; i <= ref.size(); ++i)
    for (std::size_t j = 1; j <= can.size(); ++j)
      t[i][j] = ref[i - 1] == can[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  return t;
}

Score lcs_score(const std::vector<std::string>& target, const std::vector<std::string>& prediction) {
  if (target.empty() || prediction.empty()) return {};
  const int lcs = lcs_table(target, prediction).back().back();
  return make_score(static_cast<double>(lcs) / static_cast<double>(prediction.size()),
                    static_cast<double>(lcs) / static_cast<double>(target.size()));
}

// One LCS as indices into ref, read back the way rouge-score does (prefer stepping in `can` on a strict win).
std::vector<std::size_t> lcs_indices(const std::vector<std::string>& ref, const std::vector<std::string>& can) {
  const Table t = lcs_table(ref, can);
  std::vector<std::size_t> out;
  std::size_t i = ref.size(), j = can.size();
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      out.push_back(i - 1);
      --i;
      --j;
    } else if (t[i][j - 1] > t[i - 1][j]) {
      --j;
    } else {
      --i;
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> split_sentences(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = s.find('\n', start);
    std::string_view piece = s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!piece.empty()) out.emplace_back(piece);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

Score summary_lcs_score(std::string_view target, std::string_view prediction, bool use_stemmer) {
  std::vector<std::vector<std::string>> ref, can;
  for (const auto& s : split_sentences(target)) ref.push_back(tokenize(s, use_stemmer));
  for (const auto& s : split_sentences(prediction)) can.push_back(tokenize(s, use_stemmer));
  if (ref.empty() || can.empty()) return {};
  std::size_t m = 0, n = 0;
  std::unordered_map<std::string, long long> ref_counts, can_counts;
  for (const auto& s : ref) {
    m += s.size();
    for (const auto& t : s) ++ref_counts[t];
  }
  for (const auto& s : can) {
    n += s.size();
    for (const auto& t : s) ++can_counts[t];
  }
  if (m == 0 || n == 0) return {};
  long long hits = 0;
  for (const auto& r : ref) {
    std::set<std::size_t> united;  // union of the LCS positions in r against every candidate sentence
    for (const auto& c : can)
      for (std::size_t i : lcs_indices(r, c)) united.insert(i);
    for (std::size_t i : united) {
      const std::string& token = r[i];
      if (can_counts[token] > 0 && ref_counts[token] > 0) {
        ++hits;
        --can_counts[token];
        --ref_counts[token];
      }
    }
  }
  return make_score(static_cast<double>(hits) / static_cast<double>(n), static_cast<double>(hits) / static_cast<double>(m));
}

}  // namespace

Scores score(std::string_view target, std::string_view prediction, bool use_stemmer) {
  const auto t = tokenize(target, use_stemmer);
  const auto p = tokenize(prediction, use_stemmer);
  Scores s;
  s.rouge1 = ngram_score(t, p, 1);
  s.rouge2 = ngram_score(t, p, 2);
  s.rougeL = lcs_score(t, p);
  s.rougeLsum = summary_lcs_score(target, prediction, use_stemmer);
  return s;
}

Scores score_multi(const std::vector<std::string>& targets, std::string_view prediction, bool use_stemmer) {
  Scores best;
  bool first = true;
  for (const auto& target : targets) {
    const Scores s = score(target, prediction, use_stemmer);
    const auto take = [&](Score& b, const Score& c) {
      if (first || c.fmeasure > b.fmeasure) b = c;  // np.argmax: the first maximum wins
    };
    take(best.rouge1, s.rouge1);
    take(best.rouge2, s.rouge2);
    take(best.rougeL, s.rougeL);
    take(best.rougeLsum, s.rougeLsum);
    first = false;
  }
  return best;
}

}  // namespace petlab::tasks::rouge
