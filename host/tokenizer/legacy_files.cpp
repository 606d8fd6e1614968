// Folders without tokenizer.json: build what transformers' converters (BertConverter, RobertaConverter,
// T5Converter) build from the slow tokenizer's files, with tokenizer_config.json's options.
#include "core/error.hpp"
#include "tokenizer/byte_level_bpe.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/sentencepiece_unigram.hpp"
#include "tokenizer/wordpiece.hpp"

namespace petlab::tok {
namespace {

/// Adds the family's special tokens (tokenizer_config.json's choice, else the default) and returns their ids.
struct RoleDefault {
  const char* role;
  const char* fallback;
  bool lstrip = false;
};

std::unordered_map<std::string, int64_t> add_specials(Pipeline& p, const FolderConfig& folder,
                                                      std::initializer_list<RoleDefault> roles) {
  std::unordered_map<std::string, int64_t> ids;
  for (const auto& r : roles) {
    const std::string content = folder.token(r.role).value_or(r.fallback);
    if (content.empty()) continue;
    AddedToken token{content, -1, false, r.lstrip, false, false, true};
    p.added.add(token, [&](const std::string& c) { return p.model->token_to_id(c); }, p.model->size());
    ids[r.role] = *p.added.id_of(content);
  }
  return ids;
}

int64_t required(const std::unordered_map<std::string, int64_t>& ids, const char* role, const FolderConfig& folder) {
  auto it = ids.find(role);
  if (it == ids.end())
    throw Error(folder.dir.string() + "/tokenizer_config.json sets " + role + "_token to null, but the template needs it");
  return it->second;
}

}  // namespace

Pipeline pipeline_from_vocab_txt(const FolderConfig& folder) {
  Pipeline p;
  const std::string unk = folder.token("unk").value_or("[UNK]");
  p.model = std::make_unique<WordPieceModel>(WordPieceModel::read_vocab_txt(folder.dir / "vocab.txt"),
                                             unk.empty() ? "[UNK]" : unk);
  BertNormalizer::Options o;
  o.handle_chinese_chars = folder.flag("tokenize_chinese_chars", true);
  o.lowercase = folder.flag("do_lower_case", true);
  if (auto s = folder.tokenizer_config.find("strip_accents"); s != folder.tokenizer_config.end() && s->is_boolean())
    o.strip_accents = s->get<bool>();
  p.normalizers.push_back(std::make_unique<BertNormalizer>(o));
  p.pre_tokenizers.push_back(std::make_unique<BertPreTokenizer>());
  const auto ids = add_specials(p, folder, {{"unk", "[UNK]"}, {"sep", "[SEP]"}, {"pad", "[PAD]"}, {"cls", "[CLS]"}, {"mask", "[MASK]"}});
  p.post = Template::bert(required(ids, "cls", folder), required(ids, "sep", folder));
  p.decoder = std::make_unique<WordPieceDecoder>("##", true);
  p.clean_up_tokenization_spaces = true;  // BertTokenizer's default, which the converted fast tokenizer inherits
  return p;
}

Pipeline pipeline_from_vocab_merges(const FolderConfig& folder) {
  Pipeline p;
  p.model = std::make_unique<BpeModel>(BpeModel::read_vocab_json(folder.dir / "vocab.json"),
                                       BpeModel::read_merges_txt(folder.dir / "merges.txt"), BpeModel::Options{});
  p.pre_tokenizers.push_back(std::make_unique<ByteLevelPreTokenizer>(folder.flag("add_prefix_space", false), true));
  const auto ids = add_specials(p, folder,
                                {{"bos", "<s>"}, {"eos", "</s>"}, {"sep", "</s>"}, {"cls", "<s>"}, {"unk", "<unk>"},
                                 {"pad", "<pad>"}, {"mask", "<mask>", true}});
  p.post = Template::roberta(required(ids, "cls", folder), required(ids, "sep", folder));
  p.decoder = std::make_unique<ByteLevelDecoder>();
  return p;
}

Pipeline pipeline_from_spiece_model(const FolderConfig& folder) {
  if (!folder.model_type.empty() && folder.model_type != "t5" && folder.model_type != "mt5" && folder.model_type != "umt5")
    throw Error(folder.dir.string() + ": spiece.model of a '" + folder.model_type +
                "' model: petlab reads SentencePiece tokenizers with T5's conventions only (model types t5, mt5, umt5)");
  Pipeline p;
  const SpmModelFile file = SpmModelFile::read(folder.dir / "spiece.model");
  int64_t extra_ids = 100;
  if (auto e = folder.tokenizer_config.find("extra_ids"); e != folder.tokenizer_config.end() && e->is_number_integer())
    extra_ids = e->get<int64_t>();
  std::vector<std::string> extra;
  for (int64_t i = extra_ids - 1; i >= 0; --i) extra.push_back("<extra_id_" + std::to_string(i) + ">");
  std::vector<UnigramModel::Piece> pieces;
  for (const auto& piece : file.pieces) pieces.push_back({piece.text, piece.score});
  for (const auto& e : extra) pieces.push_back({e, 0.0});  // T5Converter scores the sentinels 0
  p.model = std::make_unique<UnigramModel>(std::move(pieces), file.unk_id);

  // transformers' T5Converter: SentencePiece's map, trailing whitespace stripped, runs of spaces collapsed.
  if (!file.precompiled_charsmap.empty())
    p.normalizers.push_back(std::make_unique<PrecompiledNormalizer>(file.precompiled_charsmap));
  p.normalizers.push_back(std::make_unique<StripNormalizer>(false, true));
  p.normalizers.push_back(std::make_unique<ReplaceNormalizer>(ReplaceNormalizer::regex(" {2,}", "\u2581")));
  // add_prefix_space absent means "always" here (SentencePiece's own behaviour and t5-small's tokenizer.json);
  // transformers 4.57 would convert with "never" and lose the first word's "▁".
  PrependScheme scheme = PrependScheme::Always;
  if (auto a = folder.tokenizer_config.find("add_prefix_space"); a != folder.tokenizer_config.end() && a->is_boolean())
    scheme = !a->get<bool>() ? PrependScheme::Never : folder.flag("legacy", true) ? PrependScheme::Always : PrependScheme::First;
  p.pre_tokenizers.push_back(std::make_unique<MetaspacePreTokenizer>(U'\u2581', scheme, true));
  p.decoder = std::make_unique<MetaspaceDecoder>(U'\u2581', scheme);

  const auto model_id = [&](const std::string& c) { return p.model->token_to_id(c); };
  for (size_t id = 0; id < file.pieces.size(); ++id) {
    const auto type = file.pieces[id].type;
    if (type != SpmModelFile::PieceType::Control && type != SpmModelFile::PieceType::UserDefined) continue;
    p.added.add({file.pieces[id].text, static_cast<int64_t>(id), false, false, false, false,
                 type == SpmModelFile::PieceType::Control},
                model_id, p.model->size());
  }
  const auto ids = add_specials(p, folder, {{"eos", "</s>"}, {"unk", "<unk>"}, {"pad", "<pad>"}});
  for (const auto& e : extra) p.added.add({e, -1, false, false, false, false, true}, model_id, p.model->size());
  p.post = Template::t5(required(ids, "eos", folder));
  return p;
}

}  // namespace petlab::tok
