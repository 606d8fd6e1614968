// NLTK's PorterStemmer (mode NLTK_EXTENSIONS), the stemmer rouge-score uses. Re-implemented from the
// algorithm's description and NLTK's documented extensions; words here are lower-case ASCII.
#include "petlab/tasks/rouge.hpp"

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace petlab::tasks::rouge {

namespace {

using Condition = std::function<bool(const std::string&)>;
struct Rule {
  std::string suffix;       ///< "*d" = the word ends in a double consonant
  std::string replacement;
  Condition condition;      ///< on the stem; empty = always
};

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// A 'y' is a consonant at the start of a word or after a vowel, a vowel after a consonant.
std::vector<bool> consonant_flags(const std::string& w) {
  std::vector<bool> flags(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (is_vowel(w[i])) flags[i] = false;
    else if (w[i] == 'y') flags[i] = i == 0 ? true : !flags[i - 1];
    else flags[i] = true;
  }
  return flags;
}

bool is_consonant(const std::string& w, std::size_t i) { return consonant_flags(w)[i]; }

// m in [C](VC){m}[V]: the number of vowel->consonant transitions.
int measure(const std::string& stem) {
  const auto flags = consonant_flags(stem);
  int m = 0;
  for (std::size_t i = 1; i < flags.size(); ++i) m += !flags[i - 1] && flags[i];
  return m;
}

bool positive_measure(const std::string& stem) { return measure(stem) > 0; }

bool contains_vowel(const std::string& stem) {
  for (bool consonant : consonant_flags(stem))
    if (!consonant) return true;
  return false;
}

bool ends_with(const std::string& w, const std::string& suffix) {
  return w.size() >= suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string drop(const std::string& w, std::size_t n) { return w.substr(0, w.size() - n); }

bool ends_double_consonant(const std::string& w) {
  return w.size() >= 2 && w[w.size() - 1] == w[w.size() - 2] && is_consonant(w, w.size() - 1);
}

// *o: ends consonant-vowel-consonant with the last not w, x or y; NLTK also accepts a 2-letter vowel-consonant.
bool ends_cvc(const std::string& w) {
  const std::size_t n = w.size();
  if (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) && w[n - 1] != 'w' &&
      w[n - 1] != 'x' && w[n - 1] != 'y')
    return true;
  return n == 2 && !is_consonant(w, 0) && is_consonant(w, 1);
}

// The first rule whose suffix matches decides: its replacement if the condition holds, else the word.
std::string apply_rules(const std::string& word, const std::vector<Rule>& rules) {
  for (const auto& rule : rules) {
    if (rule.suffix == "*d" && ends_double_consonant(word)) {
      const std::string stem = drop(word, 2);
      return !rule.condition || rule.condition(stem) ? stem + rule.replacement : word;
    }
    if (ends_with(word, rule.suffix)) {
      const std::string stem = drop(word, rule.suffix.size());
      return !rule.condition || rule.condition(stem) ? stem + rule.replacement : word;
    }
  }
  return word;
}

std::string step1a(const std::string& w) {
  if (ends_with(w, "ies") && w.size() == 4) return drop(w, 3) + "ie";
  return apply_rules(w, {{"sses", "ss", {}}, {"ies", "i", {}}, {"ss", "ss", {}}, {"s", "", {}}});
}

std::string step1b(const std::string& w) {
  if (ends_with(w, "ied")) return drop(w, 3) + (w.size() == 4 ? "ie" : "i");
  if (ends_with(w, "eed")) {
    const std::string stem = drop(w, 3);
    return measure(stem) > 0 ? stem + "ee" : w;
  }
  std::string stem;
  bool removed = false;
  for (const char* suffix : {"ed", "ing"}) {
    if (ends_with(w, suffix)) {
      const std::string candidate = drop(w, std::string(suffix).size());
      if (contains_vowel(candidate)) {
        stem = candidate;
        removed = true;
        break;
      }
    }
  }
  if (!removed) return w;
  const char last = stem.empty() ? '\0' : stem.back();
  return apply_rules(stem, {
                               {"at", "ate", {}},
                               {"bl", "ble", {}},
                               {"iz", "ize", {}},
                               {"*d", std::string(1, last), [last](const std::string&) { return last != 'l' && last != 's' && last != 'z'; }},
                               {"", "e", [](const std::string& s) { return measure(s) == 1 && ends_cvc(s); }},
                           });
}

std::string step1c(const std::string& w) {
  // NLTK: y -> i only after a consonant that is not the word's only letter (happy -> happi, enjoy stays).
  return apply_rules(w, {{"y", "i", [](const std::string& s) { return s.size() > 1 && is_consonant(s, s.size() - 1); }}});
}

std::string step2(const std::string& w) {
  if (ends_with(w, "alli") && positive_measure(drop(w, 4))) return step2(drop(w, 4) + "al");
  const Condition m0 = positive_measure;
  std::vector<Rule> rules = {
      {"ational", "ate", m0}, {"tional", "tion", m0}, {"enci", "ence", m0}, {"anci", "ance", m0},
      {"izer", "ize", m0},    {"bli", "ble", m0},     {"alli", "al", m0},   {"entli", "ent", m0},
      {"eli", "e", m0},       {"ousli", "ous", m0},   {"ization", "ize", m0}, {"ation", "ate", m0},
      {"ator", "ate", m0},    {"alism", "al", m0},    {"iveness", "ive", m0}, {"fulness", "ful", m0},
      {"ousness", "ous", m0}, {"aliti", "al", m0},    {"iviti", "ive", m0}, {"biliti", "ble", m0},
      {"fulli", "ful", m0},
      {"logi", "log", [&w](const std::string&) { return positive_measure(drop(w, 3)); }},
  };
  return apply_rules(w, rules);
}

std::string step3(const std::string& w) {
  const Condition m0 = positive_measure;
  return apply_rules(w, {{"icate", "ic", m0}, {"ative", "", m0}, {"alize", "al", m0}, {"iciti", "ic", m0},
                         {"ical", "ic", m0}, {"ful", "", m0}, {"ness", "", m0}});
}

std::string step4(const std::string& w) {
  const Condition m1 = [](const std::string& s) { return measure(s) > 1; };
  return apply_rules(w, {{"al", "", m1},   {"ance", "", m1}, {"ence", "", m1}, {"er", "", m1},  {"ic", "", m1},
                         {"able", "", m1}, {"ible", "", m1}, {"ant", "", m1},  {"ement", "", m1}, {"ment", "", m1},
                         {"ent", "", m1},
                         {"ion", "", [](const std::string& s) { return measure(s) > 1 && !s.empty() && (s.back() == 's' || s.back() == 't'); }},
                         {"ou", "", m1},   {"ism", "", m1},  {"ate", "", m1},  {"iti", "", m1},  {"ous", "", m1},
                         {"ive", "", m1},  {"ize", "", m1}});
}

std::string step5a(const std::string& w) {
  if (!ends_with(w, "e")) return w;
  const std::string stem = drop(w, 1);
  const int m = measure(stem);
  if (m > 1) return stem;
  if (m == 1 && !ends_cvc(stem)) return stem;
  return w;
}

std::string step5b(const std::string& w) {
  return apply_rules(w, {{"ll", "l", [&w](const std::string&) { return measure(drop(w, 1)) > 1; }}});
}

const std::unordered_map<std::string, std::string>& irregular_forms() {
  static const std::unordered_map<std::string, std::string> pool = {
      {"sky", "sky"},     {"skies", "sky"},     {"dying", "die"},     {"lying", "lie"},
      {"tying", "tie"},   {"news", "news"},     {"innings", "inning"}, {"inning", "inning"},
      {"outings", "outing"}, {"outing", "outing"}, {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},   {"proceed", "proceed"}, {"exceed", "exceed"}, {"succeed", "succeed"},
  };
  return pool;
}

}  // namespace

std::string porter_stem(std::string_view word) {
  std::string w(word);
  for (char& c : w)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (auto it = irregular_forms().find(w); it != irregular_forms().end()) return it->second;
  if (w.size() <= 2) return w;
  w = step1a(w);
  w = step1b(w);
  w = step1c(w);
  w = step2(w);
  w = step3(w);
  w = step4(w);
  w = step5a(w);
  w = step5b(w);
  return w;
}

}  // namespace petlab::tasks::rouge
