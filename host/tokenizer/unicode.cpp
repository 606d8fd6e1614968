#include "tokenizer/unicode.hpp"

#include "core/error.hpp"

#include <petlab/utf8.hpp>

#include <utf8proc.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace petlab::tok::unicode {
namespace {

/// Length of the well-formed sequence at `s[i]` per Unicode table 3-7, or 0 and the number of bytes that
/// form the maximal ill-formed subpart in `bad`.
size_t sequence_length(std::string_view s, size_t i, size_t& bad) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) {
      bad = k;
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      bad = k;
      return 0;
    }
  }
  return len;
}

char32_t decode_at(std::string_view s, size_t i, size_t len) {
  const auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (len) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

const utf8proc_property_t* props(char32_t c) { return utf8proc_get_property(static_cast<utf8proc_int32_t>(c)); }

}  // namespace

std::u32string decode_utf8(std::string_view text, std::string_view what) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t bad = 0;
    const size_t len = sequence_length(text, i, bad);
    if (len == 0) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      const bool truncated = i + bad >= text.size() && bad > 0 &&
                             static_cast<unsigned char>(text[i]) >= 0xC2 && static_cast<unsigned char>(text[i]) <= 0xF4;
      throw Error(std::string(what) + " is not valid UTF-8: " +
                  (truncated ? "the sequence starting with byte " + std::string(byte) + " at byte offset " +
                                   std::to_string(i) + " is cut off by the end of the text"
                             : "byte " + std::string(byte) + " at byte offset " + std::to_string(i) +
                                   " does not start a well-formed character"));
    }
    out.push_back(decode_at(text, i, len));
    i += len;
  }
  return out;
}

std::string repair_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    size_t bad = 0;
    const size_t len = sequence_length(bytes, i, bad);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      i += bad;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) { utf8::append(out, c); }

std::string encode_utf8(std::u32string_view text) { return utf8::encode(text); }

int category(char32_t c) { return props(c)->category; }

bool is_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_letter(char32_t c) {
  const int k = category(c);
  return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

bool is_number(char32_t c) {
  const int k = category(c);
  return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

bool is_punctuation(char32_t c) {
  const int k = category(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool is_mark_nonspacing(char32_t c) { return category(c) == UTF8PROC_CATEGORY_MN; }

bool is_other(char32_t c) {
  const int k = category(c);
  return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CO ||
         k == UTF8PROC_CATEGORY_CS;
}

bool is_word(char32_t c) {
  const int k = category(c);
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_ND) || k == UTF8PROC_CATEGORY_NL ||
         k == UTF8PROC_CATEGORY_PC || c == 0x200C || c == 0x200D;
}

std::u32string normalize(std::u32string_view text, std::string_view form) {
  int options = UTF8PROC_STABLE;
  if (form == "NFD") options |= UTF8PROC_DECOMPOSE;
  else if (form == "NFKD") options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
  else if (form == "NFC") options |= UTF8PROC_COMPOSE;
  else if (form == "NFKC") options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
  else throw Error("unknown Unicode normal form '" + std::string(form) + "'");
  if (text.empty()) return {};
  const std::string utf8 = encode_utf8(text);
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                              static_cast<utf8proc_ssize_t>(utf8.size()), &out,
                              static_cast<utf8proc_option_t>(options));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  if (n < 0) throw Error(std::string("Unicode normalisation failed: ") + utf8proc_errmsg(n));
  return decode_utf8(std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(n)));
}

std::u32string nfd(std::u32string_view text) { return normalize(text, "NFD"); }

void append_lowercase(std::u32string& out, char32_t c) {
  if (c == 0x130) {  // the one unconditional multi-character lower-case mapping (SpecialCasing.txt)
    out.push_back(U'i');
    out.push_back(0x307);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

}  // namespace petlab::tok::unicode
