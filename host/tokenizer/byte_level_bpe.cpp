#include "tokenizer/byte_level_bpe.hpp"

#include "core/error.hpp"
#include "tokenizer/unicode.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <fstream>
#include <queue>

namespace petlab::tok {
namespace {

// GPT-2's reversible byte <-> character map: printable Latin-1 bytes stand for themselves, the others are
// shifted to U+0100 and up, so that every byte sequence becomes a string of visible characters.
struct ByteMap {
  std::array<char32_t, 256> to_char{};
  std::unordered_map<char32_t, unsigned char> to_byte;
  ByteMap() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      to_byte[to_char[b]] = static_cast<unsigned char>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

bool not_space_letter_number(char32_t c) {
  return !unicode::is_whitespace(c) && !unicode::is_letter(c) && !unicode::is_number(c);
}

}  // namespace

std::vector<std::pair<size_t, size_t>> gpt2_split(std::u32string_view t) {
  std::vector<std::pair<size_t, size_t>> out;
  const size_t n = t.size();
  const auto run = [&](size_t i, auto&& pred) {
    while (i < n && pred(t[i])) ++i;
    return i;
  };
  for (size_t i = 0; i < n;) {
    size_t end = i;
    // The alternatives in the pattern's order; the first that matches at i wins (backtracking regex).
    if (t[i] == U'\'') {
      for (std::u32string_view c : {U"s", U"t", U"re", U"ve", U"m", U"ll", U"d"})
        if (t.substr(i + 1, c.size()) == c) {
          end = i + 1 + c.size();
          break;
        }
    }
    const size_t after_space = (t[i] == U' ') ? i + 1 : i;
    if (end == i && after_space < n && unicode::is_letter(t[after_space]))
      end = run(after_space, unicode::is_letter);
    if (end == i && after_space < n && unicode::is_number(t[after_space]))
      end = run(after_space, unicode::is_number);
    if (end == i && after_space < n && not_space_letter_number(t[after_space]))
      end = run(after_space, not_space_letter_number);
    if (end == i && unicode::is_whitespace(t[i])) {
      const size_t stop = run(i, unicode::is_whitespace);
      // \s+(?!\S): the run, minus its last space when a non-space follows (if anything is left);
      // otherwise \s+ takes the single space.
      end = (stop == n || stop - i == 1) ? stop : stop - 1;
    }
    if (end == i) end = i + 1;  // unreachable: every character matches some alternative
    out.emplace_back(i, end);
    i = end;
  }
  return out;
}

void ByteLevelPreTokenizer::split(std::vector<Word>& words) const {
  const auto& map = byte_map();
  std::vector<Word> out;
  std::string bytes;
  for (auto& w : words) {
    std::u32string text = std::move(w.text);
    if (add_prefix_space_ && (text.empty() || text[0] != U' ')) text.insert(text.begin(), U' ');
    std::vector<std::pair<size_t, size_t>> pieces;
    if (use_regex_) pieces = gpt2_split(text);
    else pieces.emplace_back(0, text.size());
    for (auto [b, e] : pieces) {
      bytes = unicode::encode_utf8(std::u32string_view(text).substr(b, e - b));
      Word piece{{}, w.at_input_start && b == 0};
      piece.text.reserve(bytes.size());
      for (unsigned char byte : bytes) piece.text.push_back(map.to_char[byte]);
      out.push_back(std::move(piece));
    }
  }
  words = std::move(out);
}

BpeModel::BpeModel(std::unordered_map<std::string, int64_t> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, Options options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  for (const auto& [token, id] : vocab_) tokens_[id] = token;
  const size_t prefix = options_.continuing_subword_prefix.size();
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab_.find(a), ib = vocab_.find(b);
    const std::string merged = a + (b.starts_with(options_.continuing_subword_prefix) ? b.substr(prefix) : b);
    const auto im = vocab_.find(merged);
    if (ia == vocab_.end() || ib == vocab_.end() || im == vocab_.end())
      throw Error("BPE merge " + std::to_string(rank + 1) + " ('" + a + "' '" + b + "') uses token '" +
                  (ia == vocab_.end() ? a : ib == vocab_.end() ? b : merged) + "', which is not in the vocabulary");
    const uint64_t key = (static_cast<uint64_t>(ia->second) << 32) | static_cast<uint32_t>(ib->second);
    merges_.try_emplace(key, Merge{static_cast<int32_t>(rank), im->second});
  }
  if (options_.unk_token && !vocab_.count(*options_.unk_token))
    throw Error("BPE unknown token '" + *options_.unk_token + "' is not in the vocabulary");
}

std::unordered_map<std::string, int64_t> BpeModel::read_vocab_json(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + " is not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(file.string() + " must be a JSON object mapping tokens to ids");
  std::unordered_map<std::string, int64_t> vocab;
  for (const auto& [token, id] : j.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0)
      throw Error(file.string() + ": the id of token '" + token + "' must be a non-negative integer");
    vocab[token] = id.get<int64_t>();
  }
  return vocab;
}

std::vector<std::pair<std::string, std::string>> BpeModel::read_merges_txt(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  std::vector<std::pair<std::string, std::string>> merges;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("#version")) continue;
    const auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || line.find(' ', space + 1) != std::string::npos ||
        space + 1 == line.size())
      throw Error(file.string() + " line " + std::to_string(number) + ": expected two tokens separated by one space");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return merges;
}

void BpeModel::tokenize(std::u32string_view word, std::vector<int64_t>& ids) const {
  if (word.empty()) return;
  std::string piece = unicode::encode_utf8(word);
  if (options_.ignore_merges)
    if (auto it = vocab_.find(piece); it != vocab_.end()) {
      ids.push_back(it->second);
      return;
    }
  // Start from single characters, as HF's merge_word does (characters not in the vocabulary become the
  // unknown token, or are dropped when there is none).
  struct Symbol {
    int64_t id;
    int prev, next;
    bool removed = false;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    piece.clear();
    if (i > 0) piece = options_.continuing_subword_prefix;
    unicode::append_utf8(piece, word[i]);
    if (i + 1 == word.size()) piece += options_.end_of_word_suffix;
    auto it = vocab_.find(piece);
    int64_t id;
    if (it != vocab_.end()) id = it->second;
    else if (options_.unk_token) id = vocab_.at(*options_.unk_token);
    else continue;
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, index + 1});
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  // Lowest rank first, leftmost among equal ranks; entries made stale by earlier merges are skipped.
  struct Candidate {
    int32_t rank;
    int pos;
    int64_t new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto merge_of = [&](int64_t left, int64_t right) -> const Merge* {
    auto it = merges_.find((static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right));
    return it == merges_.end() ? nullptr : &it->second;
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i)
    if (const Merge* m = merge_of(symbols[i].id, symbols[i + 1].id)) queue.push({m->rank, i, m->id});
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& s = symbols[top.pos];
    if (s.removed || s.next < 0) continue;
    Symbol& right = symbols[s.next];
    const Merge* m = merge_of(s.id, right.id);
    if (!m || m->id != top.new_id) continue;
    s.id = top.new_id;
    right.removed = true;
    s.next = right.next;
    if (s.next >= 0) symbols[s.next].prev = top.pos;
    if (s.prev >= 0)
      if (const Merge* left = merge_of(symbols[s.prev].id, s.id)) queue.push({left->rank, s.prev, left->id});
    if (s.next >= 0)
      if (const Merge* next = merge_of(s.id, symbols[s.next].id)) queue.push({next->rank, top.pos, next->id});
  }
  for (const auto& s : symbols)
    if (!s.removed) ids.push_back(s.id);
}

std::optional<int64_t> BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> BpeModel::id_to_token(int64_t id) const {
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

std::string ByteLevelDecoder::decode(std::vector<std::string> tokens) const {
  const auto& map = byte_map();
  std::string bytes;
  for (const auto& token : tokens) {
    const std::u32string chars = unicode::decode_utf8(token, "token");
    std::string mapped;
    bool all_mapped = true;
    for (char32_t c : chars) {
      auto it = map.to_byte.find(c);
      if (it == map.to_byte.end()) {
        all_mapped = false;
        break;
      }
      mapped.push_back(static_cast<char>(it->second));
    }
    bytes += all_mapped ? mapped : token;
  }
  return unicode::repair_utf8(bytes);
}

}  // namespace petlab::tok
