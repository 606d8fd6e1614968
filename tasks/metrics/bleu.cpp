// Corpus BLEU as sacrebleu computes it with its defaults (see bleu.hpp).
#include "petlab/tasks/bleu.hpp"
#include "petlab/tasks/error.hpp"
#include "petlab/tasks/text.hpp"

#include <cmath>
#include <unordered_map>

namespace petlab::tasks::bleu {

namespace {

constexpr int kMaxOrder = 4;

bool in_class_13a(char32_t c) {
  // [\{-\~\[-\` -\&\(-\+\:-\@\/]: ASCII punctuation and symbols, and the space itself.
  return (c >= U'{' && c <= U'~') || (c >= U'[' && c <= U'`') || (c >= U' ' && c <= U'&') ||
         (c >= U'(' && c <= U'+') || (c >= U':' && c <= U'@') || c == U'/';
}
bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool is_period_comma(char32_t c) { return c == U'.' || c == U','; }

// re.sub of a two-character pattern `(A)(B)` -> `pre A mid B post`: leftmost, non-overlapping matches.
template <class First, class Second>
std::u32string substitute_pairs(const std::u32string& s, First first, Second second, std::u32string_view pre,
                                std::u32string_view mid, std::u32string_view post) {
  std::u32string out;
  out.reserve(s.size() + s.size() / 4);
  for (std::size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      out += pre;
      out.push_back(s[i]);
      out += mid;
      out.push_back(s[i + 1]);
      out += post;
      i += 2;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

using NgramCounts = std::unordered_map<std::string, long long>;

NgramCounts ngrams(const std::vector<std::string>& tokens) {
  NgramCounts counts;
  for (int n = 1; n <= kMaxOrder; ++n) {
    for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= tokens.size(); ++i) {
      std::string key = std::to_string(n);  // the order prefix keeps orders apart
      for (int k = 0; k < n; ++k) key += ' ' + tokens[i + static_cast<std::size_t>(k)];
      ++counts[key];
    }
  }
  return counts;
}

std::vector<std::string> preprocess(const std::string& segment) {
  return text::split_whitespace(tokenize_13a(text::rstrip(segment)));
}

double floored_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

}  // namespace

std::string tokenize_13a(std::string_view line_in) {
  std::string line(line_in);
  line = text::replace_all(std::move(line), "<skipped>", "");
  line = text::replace_all(std::move(line), "-\n", "");
  line = text::replace_all(std::move(line), "\n", " ");
  if (line.find('&') != std::string::npos) {
    line = text::replace_all(std::move(line), "&quot;", "\"");
    line = text::replace_all(std::move(line), "&amp;", "&");
    line = text::replace_all(std::move(line), "&lt;", "<");
    line = text::replace_all(std::move(line), "&gt;", ">");
  }
  const std::u32string padded = text::decode(" " + line + " ");
  std::u32string s;
  s.reserve(padded.size() * 2);
  for (char32_t c : padded) {
    if (in_class_13a(c)) {
      s.push_back(U' ');
      s.push_back(c);
      s.push_back(U' ');
    } else {
      s.push_back(c);
    }
  }
  const auto non_digit = [](char32_t c) { return !is_digit(c); };
  s = substitute_pairs(s, non_digit, is_period_comma, U"", U" ", U" ");
  s = substitute_pairs(s, is_period_comma, non_digit, U" ", U" ", U"");
  s = substitute_pairs(s, is_digit, [](char32_t c) { return c == U'-'; }, U"", U" ", U" ");
  std::string joined;
  for (const auto& t : text::split_whitespace(text::encode(s))) joined += (joined.empty() ? "" : " ") + t;
  return joined;
}

Result corpus_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references) {
  if (hypotheses.size() != references.size())
    throw DataError("bleu: " + std::to_string(hypotheses.size()) + " hypotheses but " +
                    std::to_string(references.size()) + " reference groups");
  Result r;
  r.counts.assign(kMaxOrder, 0);
  r.totals.assign(kMaxOrder, 0);
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    NgramCounts ref_max;
    std::vector<long long> ref_lens;
    for (const auto& ref : references[i]) {
      const auto tokens = preprocess(ref);
      ref_lens.push_back(static_cast<long long>(tokens.size()));
      for (const auto& [gram, c] : ngrams(tokens)) ref_max[gram] = std::max(ref_max[gram], c);
    }
    const auto hyp = preprocess(hypotheses[i]);
    const long long hyp_len = static_cast<long long>(hyp.size());
    long long closest = -1, closest_diff = -1;
    for (long long len : ref_lens) {
      const long long diff = std::llabs(hyp_len - len);
      if (closest_diff == -1 || diff < closest_diff) {
        closest_diff = diff;
        closest = len;
      } else if (diff == closest_diff && len < closest) {
        closest = len;
      }
    }
    r.sys_len += hyp_len;
    r.ref_len += closest;
    for (const auto& [gram, c] : ngrams(hyp)) {
      const int order = gram[0] - '0';
      r.totals[order - 1] += c;
      if (auto it = ref_max.find(gram); it != ref_max.end()) r.counts[order - 1] += std::min(c, it->second);
    }
  }
  bool any_match = false;
  for (long long c : r.counts) any_match = any_match || c != 0;
  if (!any_match) return r;
  double bp = 1.0;
  if (r.sys_len < r.ref_len)
    bp = r.sys_len > 0 ? std::exp(1.0 - static_cast<double>(r.ref_len) / static_cast<double>(r.sys_len)) : 0.0;
  std::vector<double> precisions(kMaxOrder, 0.0);
  double smooth = 1.0;
  for (int n = 0; n < kMaxOrder; ++n) {
    if (r.totals[n] == 0) break;
    if (r.counts[n] == 0) {
      smooth *= 2;  // 'exp' smoothing (mteval's NIST method)
      precisions[n] = 100.0 / (smooth * static_cast<double>(r.totals[n]));
    } else {
      precisions[n] = 100.0 * static_cast<double>(r.counts[n]) / static_cast<double>(r.totals[n]);
    }
  }
  double log_sum = 0;
  for (double p : precisions) log_sum += floored_log(p);
  r.score = bp * std::exp(log_sum / kMaxOrder);
  return r;
}

}  // namespace petlab::tasks::bleu
