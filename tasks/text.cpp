// UTF-8 helpers with Python's semantics (see text.hpp).
#include "petlab/tasks/text.hpp"

#include <petlab/utf8.hpp>

#include <utf8proc.h>

namespace petlab::tasks::text {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (overlong forms,
// surrogates and code points past U+10FFFF are invalid, as Python's decoder says).
std::size_t valid_sequence_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

std::optional<std::size_t> find_invalid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = valid_sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = valid_sequence_length(s, i);
    if (n == 0) {
      out.push_back(U'\uFFFD');
      ++i;
      continue;
    }
    const auto c0 = static_cast<unsigned char>(s[i]);
    char32_t c = n == 1 ? c0 : n == 2 ? (c0 & 0x1F) : n == 3 ? (c0 & 0x0F) : (c0 & 0x07);
    for (std::size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(c);
    i += n;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) { utf8::append(out, c); }

std::string encode(std::u32string_view s) { return utf8::encode(s); }

bool is_python_space(char32_t c) {
  // The code points for which CPython's str.isspace() is true (bidi class WS, B or S, or category Zs).
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
    case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

bool is_python_word_char(char32_t c) {
  if (c == U'_') return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::string current;
  bool in_token = false;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = valid_sequence_length(s, i);
    if (n == 0) n = 1;
    const std::u32string cp = decode(s.substr(i, n));
    if (is_python_space(cp[0])) {
      if (in_token) out.push_back(std::move(current));
      current.clear();
      in_token = false;
    } else {
      current.append(s.substr(i, n));
      in_token = true;
    }
    i += n;
  }
  if (in_token) out.push_back(std::move(current));
  return out;
}

std::string rstrip(std::string_view s) {
  std::u32string cps = decode(s);
  while (!cps.empty() && is_python_space(cps.back())) cps.pop_back();
  return encode(cps);
}

std::string strip(std::string_view s) {
  const std::u32string cps = decode(s);
  std::size_t b = 0, e = cps.size();
  while (b < e && is_python_space(cps[b])) ++b;
  while (e > b && is_python_space(cps[e - 1])) --e;
  return encode(std::u32string_view(cps).substr(b, e - b));
}

std::u32string lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c == 0x0130) {  // Python's full case mapping: İ -> i + COMBINING DOT ABOVE
      out.push_back(U'i');
      out.push_back(0x0307);
      continue;
    }
    out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
  }
  return out;
}

std::string lower(std::string_view s) { return encode(lower(decode(s))); }

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos);
  return out;
}

}  // namespace petlab::tasks::text
