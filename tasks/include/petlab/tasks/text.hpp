// UTF-8 text helpers that reproduce Python's string semantics where the reference metrics depend on them
// (str.split() whitespace, str.lower()).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace petlab::tasks::text {

/// Byte offset of the first invalid UTF-8 sequence, or nullopt when `s` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view s);

/// Decodes valid UTF-8 into code points (invalid bytes become U+FFFD).
std::u32string decode(std::string_view s);
std::string encode(std::u32string_view s);
void append_utf8(std::string& out, char32_t c);

/// Python's str.isspace() for one code point.
bool is_python_space(char32_t c);
/// Python's `\w` in a str regex: letters and numbers (Unicode categories L*, N*) and underscore.
bool is_python_word_char(char32_t c);
/// Python's str.split() with no argument: splits on runs of Unicode whitespace, drops empty pieces.
std::vector<std::string> split_whitespace(std::string_view s);
/// Python's str.rstrip() / str.strip() with no argument.
std::string rstrip(std::string_view s);
std::string strip(std::string_view s);
/// Unicode lower-casing (per code point, utf8proc's mapping).
std::string lower(std::string_view s);
std::u32string lower(std::u32string_view s);

/// Replaces every occurrence of `from` in `s` with `to`.
std::string replace_all(std::string s, std::string_view from, std::string_view to);

}  // namespace petlab::tasks::text
