#include "tokenizer/added_tokens.hpp"

#include "tokenizer/unicode.hpp"

#include <algorithm>

namespace petlab::tok {

void AddedVocabulary::add(AddedToken token,
                          const std::function<std::optional<int64_t>(const std::string&)>& model_id,
                          int64_t model_size) {
  if (token.content.empty()) return;
  if (auto it = by_content_.find(token.content); it != by_content_.end()) {
    auto& existing = tokens_[it->second];
    existing.special = existing.special || token.special;
    return;
  }
  if (token.id < 0) {
    if (auto id = model_id(token.content)) {
      token.id = *id;
    } else {
      int64_t next = model_size;
      for (const auto& t : tokens_) next = std::max(next, t.id + 1);
      token.id = next;
    }
  }
  by_content_[token.content] = tokens_.size();
  by_id_[token.id] = tokens_.size();
  tokens_.push_back(std::move(token));
}

void AddedVocabulary::finalize(const std::function<void(std::u32string&)>& normalize) {
  raw_.clear();
  normalized_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i) {
    std::u32string text = unicode::decode_utf8(tokens_[i].content, "added token");
    if (tokens_[i].normalized) {
      normalize(text);
      if (!text.empty()) normalized_.push_back({std::move(text), i});
    } else {
      raw_.push_back({std::move(text), i});
    }
  }
  for (auto* patterns : {&raw_, &normalized_})
    std::stable_sort(patterns->begin(), patterns->end(), [](const Pattern& x, const Pattern& y) {
      return x.text[0] != y.text[0] ? x.text[0] < y.text[0] : x.text.size() > y.text.size();
    });
}

std::vector<AddedVocabulary::Segment> AddedVocabulary::split(const std::u32string& text, Pass pass) const {
  const auto& patterns = pass == Pass::Raw ? raw_ : normalized_;
  std::vector<Segment> out;
  if (patterns.empty() || text.empty()) {
    out.push_back({text, std::nullopt, 0});
    return out;
  }
  // Leftmost-longest, non-overlapping matches (an Aho-Corasick automaton's order), then HF's filters.
  const auto longest_at = [&](size_t pos) -> const Pattern* {
    auto it = std::lower_bound(patterns.begin(), patterns.end(), text[pos],
                               [](const Pattern& p, char32_t c) { return p.text[0] < c; });
    for (; it != patterns.end() && it->text[0] == text[pos]; ++it)
      if (text.compare(pos, it->text.size(), it->text) == 0) return &*it;  // longest first
    return nullptr;
  };
  size_t start_offset = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Pattern* match = longest_at(pos);
    if (!match) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + match->text.size();
    pos = stop;
    const AddedToken& token = tokens_[match->token];
    if (token.single_word) {
      const bool word_before = start > 0 && unicode::is_word(text[start - 1]);
      const bool word_after = stop < text.size() && unicode::is_word(text[stop]);
      if (word_before || word_after) continue;
    }
    if (token.lstrip) {
      size_t s = start;
      while (s > 0 && unicode::is_whitespace(text[s - 1])) --s;
      start = std::max(s, start_offset);
    }
    if (token.rstrip) {
      while (stop < text.size() && unicode::is_whitespace(text[stop])) ++stop;
      pos = std::max(pos, stop);
    }
    if (start_offset < start) out.push_back({text.substr(start_offset, start - start_offset), std::nullopt, start_offset});
    out.push_back({text.substr(start, stop - start), token.id, start});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({text.substr(start_offset), std::nullopt, start_offset});
  return out;
}

std::optional<int64_t> AddedVocabulary::id_of(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

const AddedToken* AddedVocabulary::by_id(int64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

bool AddedVocabulary::is_special(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  return it != by_content_.end() && tokens_[it->second].special;
}

int64_t AddedVocabulary::count_beyond(int64_t model_size) const {
  return std::count_if(tokens_.begin(), tokens_.end(), [&](const AddedToken& t) { return t.id >= model_size; });
}

}  // namespace petlab::tok
