// UTF-8 and the character classes tokenizers split on, with the semantics Hugging Face's Rust tokenizers
// use (Rust's char methods, Oniguruma's \s \p{L} \p{N}); categories come from utf8proc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace petlab::tok::unicode {

/// Decodes strict UTF-8. Throws petlab::Error naming `what` and the byte offset of the first bad byte.
std::u32string decode_utf8(std::string_view text, std::string_view what = "text");
/// Decodes UTF-8 replacing each maximal invalid subsequence with U+FFFD (Rust's from_utf8_lossy).
std::string repair_utf8(std::string_view bytes);
void append_utf8(std::string& out, char32_t c);
std::string encode_utf8(std::u32string_view text);

int category(char32_t c);  ///< a utf8proc_category_t
/// Unicode White_Space (Rust's char::is_whitespace, Oniguruma's and Rust regex's \s).
bool is_whitespace(char32_t c);
bool is_letter(char32_t c);       ///< \p{L}
bool is_number(char32_t c);       ///< \p{N}
bool is_punctuation(char32_t c);  ///< \p{P}
bool is_mark_nonspacing(char32_t c);
/// Cc, Cf, Co, Cs: what HF's BERT normaliser calls "other" (unassigned code points are kept).
bool is_other(char32_t c);
/// Rust regex's \w: letters, marks, decimal digits, connector punctuation, joiners.
bool is_word(char32_t c);

/// Canonical decomposition (NFD), or NFC / NFKD / NFKC.
std::u32string nfd(std::u32string_view text);
std::u32string normalize(std::u32string_view text, std::string_view form);
/// Appends Rust's char::to_lowercase(c): the full mapping, so U+0130 becomes "i\u0307".
void append_lowercase(std::u32string& out, char32_t c);

}  // namespace petlab::tok::unicode
