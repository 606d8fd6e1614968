// load_tokenizer: which files of a model folder make its tokenizer, and what transformers' tokenizer
// classes change on top of them (tokenizer_config.json's options and special tokens).
#include "core/error.hpp"
#include "tokenizer/byte_level_bpe.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/wordpiece.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

namespace petlab::tok {
namespace fs = std::filesystem;

namespace {

const char* const kLookedFor = "tokenizer.json, vocab.txt (BERT), vocab.json + merges.txt (RoBERTa), spiece.model (T5)";

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

/// BertTokenizerFast re-applies its options (do_lower_case, strip_accents, tokenize_chinese_chars, with
/// their defaults when tokenizer_config.json is silent) to tokenizer.json's BertNormalizer;
/// RobertaTokenizerFast does the same with add_prefix_space on the ByteLevel pre-tokenizer.
void apply_tokenizer_class_options(Pipeline& p, const FolderConfig& folder) {
  if (folder.is_family("bert") && p.normalizers.size() == 1)
    if (auto* bert = dynamic_cast<BertNormalizer*>(p.normalizers[0].get())) {
      BertNormalizer::Options o = bert->options();
      o.lowercase = folder.flag("do_lower_case", true);
      o.handle_chinese_chars = folder.flag("tokenize_chinese_chars", true);
      auto s = folder.tokenizer_config.find("strip_accents");
      o.strip_accents = s != folder.tokenizer_config.end() && s->is_boolean() ? std::optional<bool>(s->get<bool>()) : std::nullopt;
      p.normalizers[0] = std::make_unique<BertNormalizer>(o);
    }
  if (folder.is_family("roberta") && p.pre_tokenizers.size() == 1)
    if (auto* byte_level = dynamic_cast<ByteLevelPreTokenizer*>(p.pre_tokenizers[0].get()))
      byte_level->set_add_prefix_space(folder.flag("add_prefix_space", false));
}

void fill_special_tokens(Pipeline& p, const FolderConfig& folder) {
  const auto id_of = [&](const std::string& content) -> std::optional<int64_t> {
    if (auto id = p.added.id_of(content)) return id;
    return p.model->token_to_id(content);
  };
  const auto pick = [&](const char* role, std::initializer_list<const char*> candidates) -> std::optional<int64_t> {
    if (auto configured = folder.token(role)) return configured->empty() ? std::nullopt : id_of(*configured);
    for (const char* c : candidates)
      if (auto id = id_of(c)) return id;
    return std::nullopt;
  };
  p.special.pad = pick("pad", {"[PAD]", "<pad>"});
  p.special.unk = pick("unk", {"[UNK]", "<unk>"});
  p.special.bos = pick("bos", {"<s>"});
  p.special.eos = pick("eos", {"</s>"});
  p.special.cls = pick("cls", {"[CLS]", "<s>"});
  p.special.sep = pick("sep", {"[SEP]", "</s>"});
  p.special.mask = pick("mask", {"[MASK]", "<mask>"});
}

Pipeline pipeline_from_legacy_files(const FolderConfig& folder) {
  const fs::path& dir = folder.dir;
  const bool vocab_txt = fs::exists(dir / "vocab.txt"), vocab_json = fs::exists(dir / "vocab.json"),
             merges = fs::exists(dir / "merges.txt"), spiece = fs::exists(dir / "spiece.model");
  const auto missing = [&](const std::string& family, const std::string& files) {
    return Error("no tokenizer for this " + family + " model in " + dir.string() + ": looked for tokenizer.json and " +
                 files + (vocab_json != merges ? std::string(" (") + (vocab_json ? "vocab.json" : "merges.txt") +
                                                     " is there without " + (vocab_json ? "merges.txt" : "vocab.json") + ")"
                                               : ""));
  };
  if (folder.is_family("bert")) {
    if (!vocab_txt) throw missing("BERT", "vocab.txt");
    return pipeline_from_vocab_txt(folder);
  }
  if (folder.is_family("roberta")) {
    if (!vocab_json || !merges) throw missing("RoBERTa", "vocab.json + merges.txt");
    return pipeline_from_vocab_merges(folder);
  }
  if (folder.is_family("t5")) {
    if (!spiece) throw missing("T5", "spiece.model");
    return pipeline_from_spiece_model(folder);
  }
  if (vocab_txt) return pipeline_from_vocab_txt(folder);
  if (vocab_json && merges) return pipeline_from_vocab_merges(folder);
  if (spiece) return pipeline_from_spiece_model(folder);
  std::string found;
  if (vocab_json) found = " (vocab.json is there without merges.txt)";
  if (merges) found = " (merges.txt is there without vocab.json)";
  throw Error("no tokenizer files in " + dir.string() + ": looked for " + kLookedFor + found);
}

}  // namespace

bool FolderConfig::is_family(std::string_view family) const {
  if (!tokenizer_class.empty()) return starts_with_icase(tokenizer_class, family);
  if (family == "bert") return model_type == "bert" || model_type == "distilbert";
  if (family == "roberta") return model_type == "roberta";
  if (family == "t5") return model_type == "t5" || model_type == "mt5" || model_type == "umt5";
  return false;
}

bool FolderConfig::flag(const std::string& key, bool fallback) const {
  auto it = tokenizer_config.find(key);
  return it != tokenizer_config.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::optional<std::string> FolderConfig::token(const std::string& role) const {
  auto it = tokenizer_config.find(role + "_token");
  if (it == tokenizer_config.end()) return std::nullopt;
  if (it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  throw Error(dir.string() + "/tokenizer_config.json: '" + role + "_token' must be a string or {\"content\": ...}");
}

nlohmann::json read_json_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + " is not valid JSON: " + e.what());
  }
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& model_dir) {
  if (!fs::exists(model_dir)) throw Error("tokenizer folder " + model_dir.string() + " does not exist");
  if (!fs::is_directory(model_dir))
    throw Error(model_dir.string() + " is not a folder: give the model folder that holds the tokenizer files (" +
                kLookedFor + ")");
  FolderConfig folder;
  folder.dir = model_dir;
  if (const fs::path f = model_dir / "tokenizer_config.json"; fs::exists(f)) {
    folder.tokenizer_config = read_json_file(f);
    if (!folder.tokenizer_config.is_object()) throw Error(f.string() + " must hold a JSON object");
    if (auto c = folder.tokenizer_config.find("tokenizer_class"); c != folder.tokenizer_config.end() && c->is_string())
      folder.tokenizer_class = c->get<std::string>();
  }
  if (const fs::path f = model_dir / "config.json"; fs::exists(f)) {
    const auto config = read_json_file(f);
    if (config.is_object() && config.contains("model_type") && config["model_type"].is_string())
      folder.model_type = config["model_type"].get<std::string>();
  }

  Pipeline p;
  if (const fs::path f = model_dir / "tokenizer.json"; fs::exists(f)) {
    p = pipeline_from_tokenizer_json(folder, f);
    apply_tokenizer_class_options(p, folder);
  } else {
    p = pipeline_from_legacy_files(folder);
  }
  fill_special_tokens(p, folder);
  p.clean_up_tokenization_spaces = folder.flag("clean_up_tokenization_spaces", p.clean_up_tokenization_spaces);
  if (auto m = folder.tokenizer_config.find("model_max_length");
      m != folder.tokenizer_config.end() && m->is_number_integer() && m->get<int64_t>() > 0 && m->get<int64_t>() < (int64_t{1} << 40))
    p.model_max_length = static_cast<size_t>(m->get<int64_t>());
  p.added.finalize([&](std::u32string& s) { p.normalize(s); });
  return make_tokenizer(std::move(p));
}

}  // namespace petlab::tok
