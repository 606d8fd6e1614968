// The stages of an HF tokenizer (tokenizers' "pipeline"): added tokens are split out of the raw text, the
// rest is normalised, pre-tokenised into words, each word is tokenised by the model, then the
// post-processor template adds special tokens. Decoding maps ids to tokens and runs the decoder.
#pragma once

#include "tokenizer/added_tokens.hpp"
#include "tokenizer/templates.hpp"
#include "tokenizer/tokenizer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace petlab::tok {

/// A piece of the input on its way through pre-tokenisation.
struct Word {
  std::u32string text;
  bool at_input_start = false;  ///< begins the original input (Metaspace's prepend_scheme "first")
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::u32string& text) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  /// Replaces `words` by their pieces; empty pieces are dropped by the caller.
  virtual void split(std::vector<Word>& words) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual void tokenize(std::u32string_view word, std::vector<int64_t>& ids) const = 0;
  virtual std::optional<int64_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(int64_t id) const = 0;
  virtual int64_t size() const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::string decode(std::vector<std::string> tokens) const = 0;
};

/// Everything a tokenizer is made of; filled by tokenizer_json.cpp or legacy_files.cpp.
struct Pipeline {
  std::vector<std::unique_ptr<Normalizer>> normalizers;
  std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers;
  std::unique_ptr<Model> model;
  std::unique_ptr<Decoder> decoder;  ///< null: tokens joined with spaces (HF's default)
  AddedVocabulary added;
  Template post = Template::none();
  bool clean_up_tokenization_spaces = false;  ///< transformers' post-decode clean-up
  SpecialTokens special;
  std::optional<size_t> model_max_length;

  void normalize(std::u32string& text) const {
    for (const auto& n : normalizers) n->normalize(text);
  }
};

/// The Tokenizer every loader returns.
std::unique_ptr<Tokenizer> make_tokenizer(Pipeline pipeline);

}  // namespace petlab::tok
