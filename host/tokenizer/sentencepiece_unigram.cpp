#include "tokenizer/sentencepiece_unigram.hpp"

#include "core/error.hpp"
#include "tokenizer/unicode.hpp"

#include <sentencepiece_processor.h>
#include <utf8proc.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace petlab::tok {
namespace {

// ---- protobuf wire format: just enough to read the specs of a ModelProto.
struct WireField {
  uint32_t number = 0;
  int wire = 0;
  uint64_t varint = 0;     ///< wire 0; wire 5 holds the 32 bits here too
  std::string_view bytes;  ///< wire 2
};

class WireReader {
 public:
  WireReader(std::string_view data, const std::filesystem::path& file) : data_(data), file_(file) {}
  bool next(WireField& f) {
    if (pos_ >= data_.size()) return false;
    const uint64_t tag = varint();
    f.number = static_cast<uint32_t>(tag >> 3);
    f.wire = static_cast<int>(tag & 7);
    f.bytes = {};
    switch (f.wire) {
      case 0: f.varint = varint(); break;
      case 1: skip(8); break;
      case 2: {
        const uint64_t len = varint();
        if (len > data_.size() - pos_) fail("a length-delimited field runs past the end");
        f.bytes = data_.substr(pos_, len);
        pos_ += len;
        break;
      }
      case 5: {
        if (data_.size() - pos_ < 4) fail("a 32-bit field runs past the end");
        uint32_t v;
        std::memcpy(&v, data_.data() + pos_, 4);
        f.varint = v;
        pos_ += 4;
        break;
      }
      default: fail("unsupported wire type " + std::to_string(f.wire));
    }
    return true;
  }

 private:
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) fail("a varint runs past the end");
      const auto b = static_cast<unsigned char>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("a varint is longer than 10 bytes");
  }
  void skip(size_t n) {
    if (data_.size() - pos_ < n) fail("a fixed-size field runs past the end");
    pos_ += n;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(file_.string() + " is not a SentencePiece model (malformed protobuf: " + what + " at byte " +
                std::to_string(pos_) + ")");
  }
  std::string_view data_;
  size_t pos_ = 0;
  const std::filesystem::path& file_;
};

// ---- darts-clone double array, the trie SentencePiece compiles its character map into.
bool has_leaf(uint32_t unit) { return (unit >> 8) & 1; }
uint32_t value(uint32_t unit) { return unit & ((1u << 31) - 1); }
uint32_t label(uint32_t unit) { return unit & ((1u << 31) | 0xFF); }
uint32_t offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

}  // namespace

SpmModelFile SpmModelFile::read(const std::filesystem::path& path) {
  SpmModelFile m;
  m.path = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();

  sentencepiece::SentencePieceProcessor spm;
  if (const auto status = spm.LoadFromSerializedProto(bytes); !status.ok())
    throw Error(path.string() + " is not a SentencePiece model libsentencepiece can load: " + status.ToString());
  m.unk_id = spm.unk_id();
  m.pieces.resize(static_cast<size_t>(spm.GetPieceSize()));
  for (int id = 0; id < spm.GetPieceSize(); ++id) {
    auto& piece = m.pieces[static_cast<size_t>(id)];
    piece.text = spm.IdToPiece(id);
    piece.score = spm.GetScore(id);
    piece.type = spm.IsUnknown(id)   ? PieceType::Unknown
                 : spm.IsControl(id) ? PieceType::Control
                 : spm.IsUnused(id)  ? PieceType::Unused
                 : spm.IsByte(id)    ? PieceType::Byte
                                     : PieceType::Normal;
  }

  // What the API does not say: user-defined pieces, the model type, byte fallback, the character map.
  WireReader top(bytes, path);
  WireField f;
  size_t index = 0;
  while (top.next(f)) {
    if (f.wire != 2) continue;
    WireReader sub(f.bytes, path);
    WireField g;
    if (f.number == 1) {  // repeated SentencePiece pieces
      while (sub.next(g))
        if (g.number == 3 && g.wire == 0 && g.varint == 4 && index < m.pieces.size())
          m.pieces[index].type = PieceType::UserDefined;
      ++index;
    } else if (f.number == 2) {  // TrainerSpec
      while (sub.next(g)) {
        if (g.wire != 0) continue;
        if (g.number == 3) m.model_type = static_cast<int>(g.varint);
        else if (g.number == 35) m.byte_fallback = g.varint != 0;
      }
    } else if (f.number == 3) {  // NormalizerSpec
      while (sub.next(g))
        if (g.number == 2 && g.wire == 2) m.precompiled_charsmap = std::string(g.bytes);
    }
  }
  if (m.model_type != 1)
    throw Error(path.string() + " holds a SentencePiece " +
                (m.model_type == 2 ? std::string("BPE") : "type-" + std::to_string(m.model_type)) +
                " model; petlab reads Unigram models (T5's) only");
  if (m.byte_fallback)
    throw Error(path.string() + " uses byte_fallback, which HF's T5 tokenizers do not implement; petlab does not either");
  return m;
}

PrecompiledNormalizer::PrecompiledNormalizer(std::string charsmap) {
  if (charsmap.size() < 4) throw Error("precompiled_charsmap is malformed: shorter than its 4-byte header");
  uint32_t trie_bytes;
  std::memcpy(&trie_bytes, charsmap.data(), 4);
  if (trie_bytes % 4 != 0 || trie_bytes > charsmap.size() - 4 || trie_bytes == 0)
    throw Error("precompiled_charsmap is malformed: trie size " + std::to_string(trie_bytes) + " does not fit its " +
                std::to_string(charsmap.size()) + " bytes");
  units_.resize(trie_bytes / 4);
  std::memcpy(units_.data(), charsmap.data() + 4, trie_bytes);
  normalized_ = charsmap.substr(4 + trie_bytes);
}

std::optional<std::string_view> PrecompiledNormalizer::transform(std::string_view utf8) const {
  // Common-prefix search; like HF, the first (shortest) prefix with a rule decides.
  size_t node = offset(units_[0]);
  for (unsigned char c : utf8) {
    if (c == 0) break;
    node ^= c;
    if (node >= units_.size()) return std::nullopt;
    const uint32_t unit = units_[node];
    if (label(unit) != c) return std::nullopt;
    node ^= offset(unit);
    if (node >= units_.size()) return std::nullopt;
    if (has_leaf(unit)) {
      const size_t begin = value(units_[node]);
      if (begin > normalized_.size()) return std::nullopt;
      const size_t end = normalized_.find('\0', begin);
      return std::string_view(normalized_).substr(begin, (end == std::string::npos ? normalized_.size() : end) - begin);
    }
  }
  return std::nullopt;
}

void PrecompiledNormalizer::normalize(std::u32string& text) const {
  // HF applies the map per extended grapheme cluster: a cluster under 6 bytes is looked up whole (its
  // shortest matching prefix replaces all of it), otherwise, or without a rule, character by character.
  std::u32string out;
  out.reserve(text.size());
  std::string utf8;
  const auto append = [&](std::string_view replacement) {
    out += unicode::decode_utf8(replacement, "precompiled_charsmap replacement");
  };
  utf8proc_int32_t state = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = begin + 1;
    while (end < text.size() && !utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(text[end - 1]),
                                                                   static_cast<utf8proc_int32_t>(text[end]), &state))
      ++end;
    utf8 = unicode::encode_utf8(std::u32string_view(text).substr(begin, end - begin));
    std::optional<std::string_view> whole;
    if (utf8.size() < 6) whole = transform(utf8);
    if (whole) {
      append(*whole);
    } else {
      for (size_t i = begin; i < end; ++i) {
        utf8.clear();
        unicode::append_utf8(utf8, text[i]);
        if (auto r = transform(utf8)) append(*r);
        else out.push_back(text[i]);
      }
    }
    begin = end;
  }
  text = std::move(out);
}

PrependScheme parse_prepend_scheme(const std::string& name) {
  if (name == "always") return PrependScheme::Always;
  if (name == "first") return PrependScheme::First;
  if (name == "never") return PrependScheme::Never;
  throw Error("Metaspace prepend_scheme '" + name + "' is not one of always, first, never");
}

void MetaspacePreTokenizer::split(std::vector<Word>& words) const {
  std::vector<Word> out;
  for (auto& w : words) {
    for (auto& c : w.text)
      if (c == U' ') c = replacement_;
    const bool prepend = prepend_ == PrependScheme::Always || (prepend_ == PrependScheme::First && w.at_input_start);
    if (prepend && (w.text.empty() || w.text[0] != replacement_)) w.text.insert(w.text.begin(), replacement_);
    if (!split_) {
      out.push_back(std::move(w));
      continue;
    }
    // Split before every replacement character, which stays at the start of its piece.
    size_t start = 0;
    for (size_t i = 1; i <= w.text.size(); ++i) {
      if (i == w.text.size() || w.text[i] == replacement_) {
        if (i > start) out.push_back({w.text.substr(start, i - start), w.at_input_start && start == 0});
        start = i;
      }
    }
  }
  words = std::move(out);
}

std::string MetaspaceDecoder::decode(std::vector<std::string> tokens) const {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    for (char32_t c : unicode::decode_utf8(tokens[i], "token")) {
      if (c != replacement_) unicode::append_utf8(out, c);
      else if (i != 0 || prepend_ == PrependScheme::Never) out.push_back(' ');  // the first token's "▁" is the prefix
    }
  }
  return out;
}

UnigramModel::UnigramModel(std::vector<Piece> pieces, int64_t unk_id) : pieces_(std::move(pieces)), unk_id_(unk_id) {
  if (unk_id_ < 0 || unk_id_ >= size())
    throw Error("Unigram unknown-token id " + std::to_string(unk_id_) + " is outside the " + std::to_string(size()) +
                " pieces");
  double min_score = 0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    ids_[pieces_[i].text] = static_cast<int64_t>(i);
    max_piece_bytes_ = std::max(max_piece_bytes_, pieces_[i].text.size());
    min_score = i == 0 ? pieces_[i].score : std::min(min_score, pieces_[i].score);
  }
  unk_score_ = min_score - 10.0;  // SentencePiece's and HF's penalty for an unknown character
}

void UnigramModel::tokenize(std::u32string_view word, std::vector<int64_t>& ids) const {
  const std::string s = unicode::encode_utf8(word);
  struct Best {
    int64_t id = -1;
    double score = 0;
    int64_t starts_at = -1;
  };
  std::vector<Best> best(s.size() + 1);
  std::string candidate;
  for (size_t start = 0; start < s.size();) {
    const double till_here = best[start].score;
    size_t char_len = 1;
    while (start + char_len < s.size() && (static_cast<unsigned char>(s[start + char_len]) & 0xC0) == 0x80) ++char_len;
    bool single_char_piece = false;
    // Every piece that starts here, shortest first; a strictly better score replaces the best path.
    for (size_t end = start + char_len; end <= s.size() && end - start <= max_piece_bytes_;) {
      auto it = ids_.find(s.substr(start, end - start));
      if (it != ids_.end()) {
        const double score = till_here + pieces_[static_cast<size_t>(it->second)].score;
        Best& target = best[end];
        if (target.starts_at < 0 || score > target.score) target = {it->second, score, static_cast<int64_t>(start)};
        if (end - start == char_len) single_char_piece = true;
      }
      ++end;
      while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
    }
    if (!single_char_piece) {
      Best& target = best[start + char_len];
      const double score = till_here + unk_score_;
      if (target.starts_at < 0 || score > target.score) target = {unk_id_, score, static_cast<int64_t>(start)};
    }
    start += char_len;
  }
  // Back from the end; a run of unknown characters becomes one token, looked up as a whole like HF does.
  std::vector<int64_t> reversed;
  size_t unk_end = 0;
  const auto flush_unknown = [&](size_t begin) {
    if (unk_end == 0) return;
    auto it = ids_.find(s.substr(begin, unk_end - begin));
    reversed.push_back(it != ids_.end() ? it->second : unk_id_);
    unk_end = 0;
  };
  size_t unk_begin = 0;
  for (size_t end = s.size(); end > 0;) {
    const Best& node = best[end];
    const auto start = static_cast<size_t>(node.starts_at);
    if (node.id == unk_id_) {
      if (unk_end == 0) unk_end = end;
      unk_begin = start;
    } else {
      flush_unknown(unk_begin);
      reversed.push_back(node.id);
    }
    end = start;
  }
  flush_unknown(unk_begin);
  ids.insert(ids.end(), reversed.rbegin(), reversed.rend());
}

std::optional<int64_t> UnigramModel::token_to_id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> UnigramModel::id_to_token(int64_t id) const {
  if (id < 0 || id >= size()) return std::nullopt;
  return pieces_[static_cast<size_t>(id)].text;
}

}  // namespace petlab::tok
