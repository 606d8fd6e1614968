// Prompt tuning (Lester et al. 2021): `length` learned embeddings prepended to the input at the `embed` site,
// the attention mask extended over them. On BERT/RoBERTa they take positions 0..length-1 and token type 0, on
// T5 they enter the encoder only: what PEFT's prompt tuning gives through inputs_embeds.
#include <petlab/sdk.hpp>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace {

using petlab::sdk::Config;
using petlab::sdk::Error;
using petlab::sdk::HookCall;
using petlab::sdk::KnobList;
using petlab::sdk::Model;

class Prompt : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "prompt";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "prompt tuning: learned soft tokens prepended to the input embeddings";
  static KnobList knobs() {
    return {{"length", int64_t{20}, "soft tokens prepended to every input"},
            {"init", "random",
             "random (N(0,1), as PEFT) | vocab_sample (rows of the word embedding at random ids) | text (rows of "
             "init_text's tokens, repeated or cut to length)"},
            {"init_text", "", "the text whose token embeddings initialise the prompt (init = text)"}};
  }

  explicit Prompt(const Config& config)
      : length_(config.get_int("length")), init_(config.get_string("init")), init_text_(config.get_string("init_text")) {
    if (length_ <= 0)
      throw Error(PETLAB_ERR_INVALID_ARGUMENT,
                  "prompt: length = " + std::to_string(length_) + "; expected a positive number of soft tokens");
    if (init_ != "random" && init_ != "vocab_sample" && init_ != "text")
      throw Error(PETLAB_ERR_INVALID_ARGUMENT,
                  "prompt: init = '" + init_ + "'; expected random, vocab_sample or text");
    if (init_ == "text" && init_text_.empty())
      throw Error(PETLAB_ERR_INVALID_ARGUMENT, "prompt: init = text needs a non-empty init_text knob");
  }

  void attach(Model& model) override {
    const auto embed = model.sites({"embed"});
    if (embed.empty() || embed.front().kind != PETLAB_SITE_EMBED)
      throw Error(PETLAB_ERR_NOT_FOUND, "prompt: the model has no `embed` site to prepend soft tokens to");
    const int64_t hidden = embed.front().out_features;
    model.claim("embed", "prepend");
    at::Tensor prompt = model.add_parameter("embedding", initial_prompt(model, hidden), "prompt");
    model.add_hook("embed", [prompt](HookCall& call) {
      at::Tensor& h = call.slot(0);
      at::Tensor& mask = call.slot(1);
      const int64_t B = h.size(0), P = prompt.size(0);
      if (!mask.defined()) mask = at::ones({B, h.size(1)}, h.options().dtype(at::kLong));
      h = at::cat({prompt.to(h.scalar_type()).unsqueeze(0).expand({B, P, prompt.size(1)}), h}, 1);
      mask = at::cat({at::ones({B, P}, mask.options()), mask}, 1);
    });
  }

 private:
  at::Tensor initial_prompt(Model& model, int64_t hidden) const {
    if (init_ == "random") return at::randn({length_, hidden});
    const at::Tensor words = word_embeddings(model, hidden);
    const int64_t vocab = words.size(0);
    at::Tensor ids;
    if (init_ == "vocab_sample") {
      ids = at::randint(0, vocab, {length_}, at::TensorOptions().dtype(at::kLong));
    } else {
      std::vector<int64_t> tokens = model.tokenize(init_text_);
      if (tokens.empty()) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "prompt: init_text encodes to no tokens");
      for (int64_t t : tokens)
        if (t < 0 || t >= vocab)
          throw Error(PETLAB_ERR_INVALID_ARGUMENT, "prompt: init_text gives token id " + std::to_string(t) +
                                                       ", outside the word embedding's " + std::to_string(vocab) +
                                                       " rows");
      // PEFT's TEXT init: the text's ids (special tokens included) repeated, then cut to length.
      std::vector<int64_t> chosen(static_cast<size_t>(length_));
      for (size_t i = 0; i < chosen.size(); ++i) chosen[i] = tokens[i % tokens.size()];
      ids = at::tensor(chosen, at::TensorOptions().dtype(at::kLong));
    }
    at::NoGradGuard no_grad;
    return words.index_select(0, ids.to(words.device())).to(at::kFloat).clone();
  }

  /// The backbone's token embedding: the largest `embedding`-tagged matrix of the hidden width (BERT's
  /// word_embeddings, T5's shared), as PEFT finds it by its vocabulary-sized first dimension.
  static at::Tensor word_embeddings(Model& model, int64_t hidden) {
    at::Tensor best;
    for (const auto& p : model.parameters())
      if (p.owner == "backbone" && p.has_tag("embedding") && p.tensor.dim() == 2 && p.tensor.size(1) == hidden &&
          (!best.defined() || p.tensor.size(0) > best.size(0)))
        best = p.tensor;
    if (!best.defined())
      throw Error(PETLAB_ERR_NOT_FOUND, "prompt: the model has no word embedding to sample the initial prompt from");
    return best;
  }

  int64_t length_;
  std::string init_, init_text_;
};

}  // namespace

PETLAB_PLUGIN("petlab-prompt", "1.0.0", Prompt)
