#include "tokenizer/tokenizer.hpp"

#include "core/error.hpp"
#include "tokenizer/pipeline.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/wordpiece.hpp"

namespace petlab::tok {

Tokenizer::~Tokenizer() = default;

std::vector<Encoding> Tokenizer::encode_batch(std::span<const std::string> texts, std::span<const std::string> pairs,
                                              size_t max_length) const {
  if (!pairs.empty() && pairs.size() != texts.size())
    throw Error("encode_batch: " + std::to_string(texts.size()) + " texts but " + std::to_string(pairs.size()) +
                " pair texts; give one pair text per text, or none");
  std::vector<Encoding> out;
  out.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    out.push_back(pairs.empty() ? encode(texts[i], std::nullopt, max_length) : encode(texts[i], pairs[i], max_length));
  return out;
}

int64_t Tokenizer::pad_id() const {
  if (!special_tokens().pad) throw Error("this tokenizer has no pad token");
  return *special_tokens().pad;
}

Batch pad_batch(std::span<const Encoding> encodings, int64_t pad_id, size_t pad_to_multiple_of) {
  Batch b;
  b.rows = encodings.size();
  for (const auto& e : encodings) b.cols = std::max(b.cols, e.ids.size());
  if (pad_to_multiple_of > 1 && b.cols % pad_to_multiple_of)
    b.cols += pad_to_multiple_of - b.cols % pad_to_multiple_of;
  b.ids.assign(b.rows * b.cols, pad_id);
  b.type_ids.assign(b.rows * b.cols, 0);
  b.attention_mask.assign(b.rows * b.cols, 0);
  for (size_t r = 0; r < b.rows; ++r) {
    const auto& e = encodings[r];
    std::copy(e.ids.begin(), e.ids.end(), b.ids.begin() + r * b.cols);
    std::copy(e.type_ids.begin(), e.type_ids.end(), b.type_ids.begin() + r * b.cols);
    std::fill_n(b.attention_mask.begin() + r * b.cols, e.ids.size(), 1);
  }
  return b;
}

namespace {

class PipelineTokenizer : public Tokenizer {
 public:
  explicit PipelineTokenizer(Pipeline p) : p_(std::move(p)) {}

  Encoding encode(std::string_view text, std::optional<std::string_view> pair, size_t max_length) const override {
    std::vector<int64_t> a = tokenize(text, "text");
    if (!pair) {
      p_.post.truncate(a, nullptr, max_length);
      return p_.post.apply(a, nullptr);
    }
    std::vector<int64_t> b = tokenize(*pair, "pair text");
    p_.post.truncate(a, &b, max_length);
    return p_.post.apply(a, &b);
  }

  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0) throw Error("cannot decode token id " + std::to_string(id) + ": ids are non-negative");
      std::optional<std::string> token;
      if (const AddedToken* added = p_.added.by_id(id)) token = added->content;
      else token = p_.model->id_to_token(id);
      if (!token) continue;  // past the vocabulary: HF drops it too
      if (skip_special_tokens && p_.added.is_special(*token)) continue;
      tokens.push_back(std::move(*token));
    }
    std::string text;
    if (p_.decoder) {
      text = p_.decoder->decode(std::move(tokens));
    } else {
      for (size_t i = 0; i < tokens.size(); ++i) text += (i ? " " : "") + tokens[i];
    }
    return p_.clean_up_tokenization_spaces ? clean_up_tokenization(std::move(text)) : text;
  }

  int64_t vocab_size() const override { return p_.model->size() + p_.added.count_beyond(p_.model->size()); }

  std::optional<int64_t> token_to_id(std::string_view token) const override {
    if (auto id = p_.added.id_of(token)) return id;
    return p_.model->token_to_id(token);
  }

  std::optional<std::string> id_to_token(int64_t id) const override {
    if (const AddedToken* added = p_.added.by_id(id)) return added->content;
    return p_.model->id_to_token(id);
  }

  const SpecialTokens& special_tokens() const override { return p_.special; }
  size_t num_special_tokens(bool pair) const override { return p_.post.added_tokens(pair); }
  std::optional<size_t> model_max_length() const override { return p_.model_max_length; }

 private:
  /// The model ids of one text, before the template: added tokens out, normalise, pre-tokenise, model.
  std::vector<int64_t> tokenize(std::string_view utf8, std::string_view what) const {
    const std::u32string text = unicode::decode_utf8(utf8, what);
    std::vector<int64_t> ids;
    std::vector<Word> words;
    for (auto& raw : p_.added.split(text, AddedVocabulary::Pass::Raw)) {
      if (raw.id) {
        ids.push_back(*raw.id);
        continue;
      }
      p_.normalize(raw.text);
      for (auto& seg : p_.added.split(raw.text, AddedVocabulary::Pass::Normalized)) {
        if (seg.id) {
          ids.push_back(*seg.id);
          continue;
        }
        if (seg.text.empty()) continue;
        words.clear();
        words.push_back({std::move(seg.text), raw.start == 0 && seg.start == 0});
        for (const auto& pre : p_.pre_tokenizers) {
          pre->split(words);
          std::erase_if(words, [](const Word& w) { return w.text.empty(); });
        }
        for (const auto& w : words) p_.model->tokenize(w.text, ids);
      }
    }
    return ids;
  }

  Pipeline p_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_tokenizer(Pipeline pipeline) {
  if (!pipeline.model) throw Error("tokenizer pipeline without a model");
  return std::make_unique<PipelineTokenizer>(std::move(pipeline));
}

}  // namespace petlab::tok
