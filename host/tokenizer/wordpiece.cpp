#include "tokenizer/wordpiece.hpp"

#include "core/error.hpp"
#include "tokenizer/unicode.hpp"

#include <fstream>

namespace petlab::tok {
namespace {

// Tokenizers' BERT rules: \t \n \r count as whitespace, not control.
bool bert_whitespace(char32_t c) { return c == U'\t' || c == U'\n' || c == U'\r' || unicode::is_whitespace(c); }
bool bert_control(char32_t c) {
  return !(c == U'\t' || c == U'\n' || c == U'\r') && unicode::is_other(c);
}

// The CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana, which are space-separated).
bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool bert_punctuation(char32_t c) {
  return (c < 0x80 && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))) ||
         unicode::is_punctuation(c);
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

}  // namespace

void BertNormalizer::normalize(std::u32string& text) const {
  std::u32string out;
  out.reserve(text.size());
  if (options_.clean_text) {
    for (char32_t c : text) {
      if (c == 0 || c == 0xFFFD || bert_control(c)) continue;
      out.push_back(bert_whitespace(c) ? U' ' : c);
    }
    text.swap(out);
  }
  if (options_.handle_chinese_chars) {
    out.clear();
    for (char32_t c : text) {
      if (is_chinese_char(c)) {
        out.push_back(U' ');
        out.push_back(c);
        out.push_back(U' ');
      } else {
        out.push_back(c);
      }
    }
    text.swap(out);
  }
  if (options_.strip_accents.value_or(options_.lowercase)) {
    text = unicode::nfd(text);
    std::erase_if(text, [](char32_t c) { return unicode::is_mark_nonspacing(c); });
  }
  if (options_.lowercase) {
    out.clear();
    for (char32_t c : text) unicode::append_lowercase(out, c);
    text.swap(out);
  }
}

void BertPreTokenizer::split(std::vector<Word>& words) const {
  std::vector<Word> out;
  for (const auto& w : words) {
    size_t start = 0;
    const auto flush = [&](size_t end) {
      if (end > start) out.push_back({w.text.substr(start, end - start), w.at_input_start && start == 0});
    };
    for (size_t i = 0; i < w.text.size(); ++i) {
      const char32_t c = w.text[i];
      if (unicode::is_whitespace(c)) {
        flush(i);
        start = i + 1;
      } else if (bert_punctuation(c)) {
        flush(i);
        out.push_back({w.text.substr(i, 1), w.at_input_start && i == 0});
        start = i + 1;
      }
    }
    flush(w.text.size());
  }
  words = std::move(out);
}

WordPieceModel::WordPieceModel(std::unordered_map<std::string, int64_t> vocab, std::string unk_token,
                               std::string continuing_subword_prefix, size_t max_input_chars_per_word)
    : vocab_(std::move(vocab)), prefix_(std::move(continuing_subword_prefix)), max_chars_(max_input_chars_per_word) {
  for (const auto& [token, id] : vocab_) tokens_[id] = token;
  auto unk = vocab_.find(unk_token);
  if (unk == vocab_.end())
    throw Error("WordPiece unknown token '" + unk_token + "' is not in the vocabulary");
  unk_id_ = unk->second;
}

std::unordered_map<std::string, int64_t> WordPieceModel::read_vocab_txt(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  std::unordered_map<std::string, int64_t> vocab;
  std::string line;
  int64_t index = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // Python reads vocab.txt with universal newlines
    unicode::decode_utf8(line, file.string() + " line " + std::to_string(index + 1));
    vocab[line] = index++;  // like transformers' load_vocab: a repeated token keeps its last line
  }
  if (vocab.empty()) throw Error(file.string() + " is empty: expected one WordPiece token per line");
  return vocab;
}

void WordPieceModel::tokenize(std::u32string_view word, std::vector<int64_t>& ids) const {
  if (word.size() > max_chars_) {
    ids.push_back(unk_id_);
    return;
  }
  // Greedy longest-match-first over whole characters; one unmatched position makes the word [UNK].
  const std::string utf8 = unicode::encode_utf8(word);
  std::vector<size_t> offset{0};  // byte offset of each character boundary
  for (size_t i = 1; i <= utf8.size(); ++i)
    if (i == utf8.size() || (static_cast<unsigned char>(utf8[i]) & 0xC0) != 0x80) offset.push_back(i);
  const size_t first = ids.size();
  std::string candidate;
  for (size_t start = 0; start < word.size();) {
    size_t end = word.size();
    std::optional<int64_t> found;
    for (; end > start; --end) {
      candidate = start > 0 ? prefix_ : std::string();
      candidate.append(utf8, offset[start], offset[end] - offset[start]);
      if (auto it = vocab_.find(candidate); it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (!found) {
      ids.resize(first);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(*found);
    start = end;
  }
}

std::optional<int64_t> WordPieceModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> WordPieceModel::id_to_token(int64_t id) const {
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

std::string clean_up_tokenization(std::string text) {
  replace_all(text, " .", ".");
  replace_all(text, " ?", "?");
  replace_all(text, " !", "!");
  replace_all(text, " ,", ",");
  replace_all(text, " ' ", "'");
  replace_all(text, " n't", "n't");
  replace_all(text, " 'm", "'m");
  replace_all(text, " 's", "'s");
  replace_all(text, " 've", "'ve");
  replace_all(text, " 're", "'re");
  return text;
}

std::string WordPieceDecoder::decode(std::vector<std::string> tokens) const {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string token = std::move(tokens[i]);
    if (i != 0) {
      if (token.starts_with(prefix_)) token.erase(0, prefix_.size());
      else token.insert(0, " ");
    }
    if (cleanup_) {
      // tokenizers cleans each token on its own, with one more rule than transformers' clean-up.
      token = clean_up_tokenization(std::move(token));
      replace_all(token, " do not", " don't");
    }
    out += token;
  }
  return out;
}

}  // namespace petlab::tok
