#include "tokenizer/normalizers.hpp"

#include "core/error.hpp"
#include "tokenizer/unicode.hpp"

#include <algorithm>
#include <charconv>

namespace petlab::tok {

void StripNormalizer::normalize(std::u32string& text) const {
  size_t begin = 0, end = text.size();
  if (left_)
    while (begin < end && unicode::is_whitespace(text[begin])) ++begin;
  if (right_)
    while (end > begin && unicode::is_whitespace(text[end - 1])) --end;
  text = text.substr(begin, end - begin);
}

ReplaceNormalizer ReplaceNormalizer::literal(const std::string& pattern, const std::string& content) {
  ReplaceNormalizer r;
  r.literal_ = unicode::decode_utf8(pattern, "Replace pattern");
  r.content_ = unicode::decode_utf8(content, "Replace content");
  if (r.literal_.empty()) throw Error("Replace normalizer with an empty pattern");
  return r;
}

ReplaceNormalizer ReplaceNormalizer::regex(const std::string& pattern, const std::string& content) {
  const auto unsupported = [&] {
    return Error("Replace normalizer regex '" + pattern +
                 "' is not supported (only a single character repeated: \"c+\", \"c{n,}\", \"c{n}\", \"c{n,m}\")");
  };
  ReplaceNormalizer r;
  r.content_ = unicode::decode_utf8(content, "Replace content");
  std::u32string p = unicode::decode_utf8(pattern, "Replace pattern");
  size_t i = 0;
  if (p.empty()) throw unsupported();
  if (p[0] == U'\\') {
    if (p.size() < 2 || unicode::is_letter(p[1]) || unicode::is_number(p[1])) throw unsupported();
    i = 1;
  } else if (std::u32string_view(U".[](){}*+?|^$").find(p[0]) != std::u32string_view::npos) {
    throw unsupported();
  }
  r.repeated_ = p[i++];
  const std::string rest = unicode::encode_utf8(p.substr(i));
  if (rest == "+") {
    r.min_ = 1;
  } else if (rest.size() >= 3 && rest.front() == '{' && rest.back() == '}') {
    const std::string body = rest.substr(1, rest.size() - 2);
    const auto comma = body.find(',');
    const auto number = [&](std::string_view s) {
      size_t v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) throw unsupported();
      return v;
    };
    r.min_ = number(std::string_view(body).substr(0, comma));
    if (comma == std::string::npos) r.max_ = r.min_;
    else if (comma + 1 < body.size()) r.max_ = number(std::string_view(body).substr(comma + 1));
    if (r.min_ == 0 || (r.max_ && r.max_ < r.min_)) throw unsupported();
  } else {
    throw unsupported();
  }
  return r;
}

void ReplaceNormalizer::normalize(std::u32string& text) const {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (!literal_.empty()) {
      if (text.compare(i, literal_.size(), literal_) == 0) {
        out += content_;
        i += literal_.size();
        continue;
      }
    } else if (text[i] == repeated_) {
      size_t n = 0;
      while (i + n < text.size() && text[i + n] == repeated_ && (max_ == 0 || n < max_)) ++n;
      if (n >= min_) {
        out += content_;
        i += n;
        continue;
      }
      out.append(text, i, n);  // a run too short to match cannot match later inside itself either
      i += n;
      continue;
    }
    out.push_back(text[i++]);
  }
  text = std::move(out);
}

void LowercaseNormalizer::normalize(std::u32string& text) const {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text) unicode::append_lowercase(out, c);
  text = std::move(out);
}

void UnicodeFormNormalizer::normalize(std::u32string& text) const { text = unicode::normalize(text, form_); }

void StripAccentsNormalizer::normalize(std::u32string& text) const {
  std::erase_if(text, [](char32_t c) { return unicode::is_mark_nonspacing(c); });
}

void WhitespaceSplit::split(std::vector<Word>& words) const {
  std::vector<Word> out;
  for (auto& w : words) {
    size_t i = 0;
    while (i < w.text.size()) {
      while (i < w.text.size() && unicode::is_whitespace(w.text[i])) ++i;
      const size_t start = i;
      while (i < w.text.size() && !unicode::is_whitespace(w.text[i])) ++i;
      if (i > start) out.push_back({w.text.substr(start, i - start), w.at_input_start && start == 0});
    }
  }
  words = std::move(out);
}

}  // namespace petlab::tok
