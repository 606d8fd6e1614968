// tokenizer.json (HF tokenizers' serialisation) into a Pipeline. Every component type petlab's families
// use is read; any other type is refused by name, and a missing or mistyped key is reported with its path.
#include "core/error.hpp"
#include "tokenizer/byte_level_bpe.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/sentencepiece_unigram.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/wordpiece.hpp"

#include <map>

namespace petlab::tok {
namespace {

using nlohmann::json;

/// An error that already names tokenizer.json and the key.
struct JsonError : Error {
  using Error::Error;
};

/// A JSON value with the key path that leads to it, for error messages.
class Node {
 public:
  Node(const json& value, std::string path, const std::filesystem::path& file) : v_(value), path_(std::move(path)), file_(file) {}

  const json& value() const { return v_; }
  const std::string& path() const { return path_; }
  bool is_null() const { return v_.is_null(); }

  Node at(const std::string& key) const {
    expect(v_.is_object(), "an object");
    auto it = v_.find(key);
    if (it == v_.end()) fail("key '" + child_path(key) + "' is missing");
    return {*it, child_path(key), file_};
  }
  std::optional<Node> find(const std::string& key) const {
    expect(v_.is_object(), "an object");
    auto it = v_.find(key);
    if (it == v_.end()) return std::nullopt;
    return Node(*it, child_path(key), file_);
  }
  Node at(size_t i) const { return {v_.at(i), path_ + "[" + std::to_string(i) + "]", file_}; }
  size_t size() const {
    expect(v_.is_array(), "an array");
    return v_.size();
  }

  std::string str() const {
    expect(v_.is_string(), "a string");
    return v_.get<std::string>();
  }
  int64_t integer() const {
    expect(v_.is_number_integer(), "an integer");
    return v_.get<int64_t>();
  }
  double number() const {
    expect(v_.is_number(), "a number");
    return v_.get<double>();
  }
  bool boolean() const {
    expect(v_.is_boolean(), "true or false");
    return v_.get<bool>();
  }

  std::string str_or(const std::string& key, const std::string& fallback) const {
    auto n = find(key);
    return n && !n->is_null() ? n->str() : fallback;
  }
  bool bool_or(const std::string& key, bool fallback) const {
    auto n = find(key);
    return n && !n->is_null() ? n->boolean() : fallback;
  }
  std::string type() const { return at("type").str(); }

  [[noreturn]] void fail(const std::string& what) const { throw JsonError(file_.string() + ": " + what); }
  void expect(bool ok, const std::string& what) const {
    if (!ok) fail("'" + (path_.empty() ? std::string("(top level)") : path_) + "' must be " + what + ", not " + v_.type_name());
  }

 private:
  std::string child_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const json& v_;
  std::string path_;
  const std::filesystem::path& file_;
};

std::string base64_decode(const std::string& in, const Node& where) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const auto k = alphabet.find(c);
    if (k == std::string::npos) where.fail("'" + where.path() + "' is not valid base64");
    acc = (acc << 6) | static_cast<uint32_t>(k);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

char32_t single_char(const Node& n) {
  const std::u32string s = unicode::decode_utf8(n.str(), n.path());
  if (s.size() != 1) n.fail("'" + n.path() + "' must be a single character");
  return s[0];
}

PrependScheme metaspace_scheme(const Node& n) {
  if (auto legacy = n.find("add_prefix_space"); legacy && !legacy->is_null() && !legacy->boolean())
    return PrependScheme::Never;
  try {
    return parse_prepend_scheme(n.str_or("prepend_scheme", "always"));
  } catch (const Error& e) {
    n.fail(e.what());
  }
}

void add_normalizers(const Node& n, std::vector<std::unique_ptr<Normalizer>>& out) {
  if (n.is_null()) return;
  const std::string type = n.type();
  if (type == "Sequence") {
    const Node list = n.at("normalizers");
    for (size_t i = 0; i < list.size(); ++i) add_normalizers(list.at(i), out);
  } else if (type == "BertNormalizer") {
    BertNormalizer::Options o;
    o.clean_text = n.bool_or("clean_text", true);
    o.handle_chinese_chars = n.bool_or("handle_chinese_chars", true);
    if (auto s = n.find("strip_accents"); s && !s->is_null()) o.strip_accents = s->boolean();
    o.lowercase = n.bool_or("lowercase", true);
    out.push_back(std::make_unique<BertNormalizer>(o));
  } else if (type == "Precompiled") {
    const Node map = n.at("precompiled_charsmap");
    if (map.is_null()) return;
    const std::string bytes = base64_decode(map.str(), map);
    if (bytes.empty()) return;
    try {
      out.push_back(std::make_unique<PrecompiledNormalizer>(bytes));
    } catch (const Error& e) {
      n.fail(std::string("'") + map.path() + "': " + e.what());
    }
  } else if (type == "Strip") {
    out.push_back(std::make_unique<StripNormalizer>(n.bool_or("strip_left", true), n.bool_or("strip_right", true)));
  } else if (type == "Replace") {
    const Node pattern = n.at("pattern");
    const std::string content = n.at("content").str();
    try {
      if (auto s = pattern.find("String")) out.push_back(std::make_unique<ReplaceNormalizer>(ReplaceNormalizer::literal(s->str(), content)));
      else out.push_back(std::make_unique<ReplaceNormalizer>(ReplaceNormalizer::regex(pattern.at("Regex").str(), content)));
    } catch (const Error& e) {
      n.fail(std::string("'") + n.path() + "': " + e.what());
    }
  } else if (type == "Lowercase") {
    out.push_back(std::make_unique<LowercaseNormalizer>());
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    out.push_back(std::make_unique<UnicodeFormNormalizer>(type));
  } else if (type == "StripAccents") {
    out.push_back(std::make_unique<StripAccentsNormalizer>());
  } else {
    n.fail("normalizer type '" + type + "' at '" + n.path() +
           "' is not supported (supported: BertNormalizer, Precompiled, Strip, Replace, Lowercase, NFC, NFD, NFKC, "
           "NFKD, StripAccents, Sequence)");
  }
}

void add_pre_tokenizers(const Node& n, std::vector<std::unique_ptr<PreTokenizer>>& out) {
  if (n.is_null()) return;
  const std::string type = n.type();
  if (type == "Sequence") {
    const Node list = n.at("pretokenizers");
    for (size_t i = 0; i < list.size(); ++i) add_pre_tokenizers(list.at(i), out);
  } else if (type == "BertPreTokenizer") {
    out.push_back(std::make_unique<BertPreTokenizer>());
  } else if (type == "ByteLevel") {
    out.push_back(std::make_unique<ByteLevelPreTokenizer>(n.bool_or("add_prefix_space", true), n.bool_or("use_regex", true)));
  } else if (type == "Metaspace") {
    out.push_back(std::make_unique<MetaspacePreTokenizer>(single_char(n.at("replacement")), metaspace_scheme(n),
                                                          n.bool_or("split", true)));
  } else if (type == "WhitespaceSplit") {
    out.push_back(std::make_unique<WhitespaceSplit>());
  } else {
    n.fail("pre_tokenizer type '" + type + "' at '" + n.path() +
           "' is not supported (supported: BertPreTokenizer, ByteLevel, Metaspace, WhitespaceSplit, Sequence)");
  }
}

std::unordered_map<std::string, int64_t> read_vocab_object(const Node& vocab) {
  vocab.expect(vocab.value().is_object(), "an object mapping tokens to ids");
  std::unordered_map<std::string, int64_t> out;
  for (const auto& [token, id] : vocab.value().items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0)
      vocab.fail("'" + vocab.path() + "': the id of '" + token + "' must be a non-negative integer");
    out[token] = id.get<int64_t>();
  }
  return out;
}

std::unique_ptr<Model> read_model(const Node& n, const FolderConfig& folder) {
  const std::string type = n.type();
  try {
    if (type == "WordPiece") {
      return std::make_unique<WordPieceModel>(read_vocab_object(n.at("vocab")), n.str_or("unk_token", "[UNK]"),
                                              n.str_or("continuing_subword_prefix", "##"),
                                              n.find("max_input_chars_per_word")
                                                  ? static_cast<size_t>(n.at("max_input_chars_per_word").integer())
                                                  : 100);
    }
    if (type == "BPE") {
      if (auto d = n.find("dropout"); d && !d->is_null() && d->number() > 0)
        n.fail("'" + n.path() + ".dropout' is set: BPE dropout makes encoding random, petlab does not apply it");
      if (n.bool_or("byte_fallback", false)) n.fail("'" + n.path() + ".byte_fallback' is not supported");
      const Node merges = n.at("merges");
      std::vector<std::pair<std::string, std::string>> pairs;
      for (size_t i = 0; i < merges.size(); ++i) {
        const Node m = merges.at(i);
        if (m.value().is_string()) {
          const std::string s = m.str();
          const auto space = s.find(' ');
          if (space == std::string::npos) m.fail("'" + m.path() + "' must be two tokens separated by a space");
          pairs.emplace_back(s.substr(0, space), s.substr(space + 1));
        } else {
          if (m.size() != 2) m.fail("'" + m.path() + "' must be a pair of tokens");
          pairs.emplace_back(m.at(0).str(), m.at(1).str());
        }
      }
      BpeModel::Options o;
      if (auto unk = n.find("unk_token"); unk && !unk->is_null()) o.unk_token = unk->str();
      o.continuing_subword_prefix = n.str_or("continuing_subword_prefix", "");
      o.end_of_word_suffix = n.str_or("end_of_word_suffix", "");
      o.ignore_merges = n.bool_or("ignore_merges", false);
      return std::make_unique<BpeModel>(read_vocab_object(n.at("vocab")), pairs, o);
    }
    if (type == "Unigram") {
      if (n.bool_or("byte_fallback", false)) n.fail("'" + n.path() + ".byte_fallback' is not supported");
      const Node vocab = n.at("vocab");
      std::vector<UnigramModel::Piece> pieces;
      for (size_t i = 0; i < vocab.size(); ++i) {
        const Node entry = vocab.at(i);
        if (entry.size() != 2) entry.fail("'" + entry.path() + "' must be [piece, score]");
        pieces.push_back({entry.at(0).str(), entry.at(1).number()});
      }
      // spiece.model, when it is there, must be the same model: libsentencepiece reads it and we compare.
      if (const auto spiece = folder.dir / "spiece.model"; std::filesystem::exists(spiece)) {
        const SpmModelFile file = SpmModelFile::read(spiece);
        if (pieces.size() < file.pieces.size())
          n.fail("'" + vocab.path() + "' has " + std::to_string(pieces.size()) + " pieces but " + spiece.string() +
                 " has " + std::to_string(file.pieces.size()) + ": they are not the same model");
        for (size_t i = 0; i < file.pieces.size(); ++i)
          if (pieces[i].text != file.pieces[i].text)
            n.fail("'" + vocab.path() + "' and " + spiece.string() + " disagree at id " + std::to_string(i) + " ('" +
                   pieces[i].text + "' vs '" + file.pieces[i].text + "'): they are not the same model");
      }
      const Node unk = n.at("unk_id");
      if (unk.is_null()) n.fail("'" + unk.path() + "' is null: petlab needs the unknown piece of a Unigram model");
      return std::make_unique<UnigramModel>(std::move(pieces), unk.integer());
    }
  } catch (const JsonError&) {
    throw;
  } catch (const Error& e) {  // from the model itself (unknown token missing, bad merge, spiece.model)
    n.fail("'" + n.path() + "': " + e.what());
  }
  n.fail("model type '" + type + "' is not supported (supported: WordPiece, BPE, Unigram)");
}

Template read_post_processor(const Node& n) {
  if (n.is_null()) return Template::none();
  const std::string type = n.type();
  const auto token_id = [&](const Node& pair) {  // ["</s>", 2]
    if (pair.size() != 2) pair.fail("'" + pair.path() + "' must be [token, id]");
    return pair.at(1).integer();
  };
  if (type == "TemplateProcessing") {
    std::map<std::string, std::vector<int64_t>> specials;
    const Node st = n.at("special_tokens");
    st.expect(st.value().is_object(), "an object");
    for (const auto& [name, _] : st.value().items()) {
      const Node ids = st.at(name).at("ids");
      for (size_t i = 0; i < ids.size(); ++i) specials[name].push_back(ids.at(i).integer());
    }
    const auto items = [&](const Node& list) {
      std::vector<Template::Item> out;
      for (size_t i = 0; i < list.size(); ++i) {
        const Node item = list.at(i);
        if (auto s = item.find("SpecialToken")) {
          const std::string id = s->at("id").str();
          auto it = specials.find(id);
          if (it == specials.end()) s->fail("'" + s->path() + "' names '" + id + "', which special_tokens does not define");
          out.push_back({Template::Item::Kind::Special, it->second, s->at("type_id").integer()});
        } else {
          const Node seq = item.at("Sequence");
          const std::string id = seq.at("id").str();
          if (id != "A" && id != "B") seq.fail("'" + seq.path() + ".id' must be A or B");
          out.push_back({id == "A" ? Template::Item::Kind::A : Template::Item::Kind::B, {}, seq.at("type_id").integer()});
        }
      }
      return out;
    };
    return Template(items(n.at("single")), items(n.at("pair")));
  }
  if (type == "RobertaProcessing") return Template::roberta(token_id(n.at("cls")), token_id(n.at("sep")));
  if (type == "BertProcessing") return Template::bert(token_id(n.at("cls")), token_id(n.at("sep")));
  if (type == "ByteLevel") return Template::none();
  if (type == "Sequence") {
    const Node list = n.at("processors");
    std::optional<Template> found;
    for (size_t i = 0; i < list.size(); ++i) {
      const Node p = list.at(i);
      if (p.type() == "ByteLevel") continue;
      if (found) n.fail("'" + n.path() + "' chains more than one template-adding processor");
      found = read_post_processor(p);
    }
    return found ? *found : Template::none();
  }
  n.fail("post_processor type '" + type +
         "' is not supported (supported: TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence)");
}

std::unique_ptr<Decoder> read_decoder(const Node& n) {
  if (n.is_null()) return nullptr;
  const std::string type = n.type();
  if (type == "WordPiece") return std::make_unique<WordPieceDecoder>(n.str_or("prefix", "##"), n.bool_or("cleanup", true));
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") return std::make_unique<MetaspaceDecoder>(single_char(n.at("replacement")), metaspace_scheme(n));
  n.fail("decoder type '" + type + "' is not supported (supported: WordPiece, ByteLevel, Metaspace)");
}

}  // namespace

Pipeline pipeline_from_tokenizer_json(const FolderConfig& folder, const std::filesystem::path& file) {
  const json doc = read_json_file(file);
  const Node root(doc, "", file);
  root.expect(doc.is_object(), "an object");
  Pipeline p;
  add_normalizers(root.at("normalizer"), p.normalizers);
  add_pre_tokenizers(root.at("pre_tokenizer"), p.pre_tokenizers);
  p.model = read_model(root.at("model"), folder);
  p.post = read_post_processor(root.at("post_processor"));
  p.decoder = read_decoder(root.at("decoder"));
  if (auto added = root.find("added_tokens"); added && !added->is_null()) {
    for (size_t i = 0; i < added->size(); ++i) {
      const Node t = added->at(i);
      AddedToken token;
      token.id = t.at("id").integer();
      token.content = t.at("content").str();
      token.single_word = t.bool_or("single_word", false);
      token.lstrip = t.bool_or("lstrip", false);
      token.rstrip = t.bool_or("rstrip", false);
      token.special = t.bool_or("special", false);
      token.normalized = t.bool_or("normalized", !token.special);
      p.added.add(std::move(token), [](const std::string&) { return std::nullopt; }, p.model->size());
    }
  }
  return p;
}

}  // namespace petlab::tok
