#include "backbone/t5.hpp"

#include "backbone/architectures.hpp"
#include "backbone/dropout.hpp"
#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace petlab {

T5Options T5Options::from_config(const ModelConfig& c) {
  T5Options o;
  o.vocab = c.get<int64_t>("vocab_size");
  o.d_model = c.get<int64_t>("d_model");
  o.d_kv = c.get<int64_t>("d_kv");
  o.d_ff = c.get<int64_t>("d_ff");
  o.heads = c.get<int64_t>("num_heads");
  o.encoder_layers = c.get<int64_t>("num_layers");
  o.decoder_layers = c.get<int64_t>("num_decoder_layers", o.encoder_layers);
  o.relative_buckets = c.get<int64_t>("relative_attention_num_buckets", 32);
  o.relative_max_distance = c.get<int64_t>("relative_attention_max_distance", 128);
  o.dropout = c.get<double>("dropout_rate", 0.1);
  o.eps = c.get<double>("layer_norm_epsilon", 1e-6);
  o.tied_head = c.get<bool>("tie_word_embeddings", true);
  o.pad_id = c.get<int64_t>("pad_token_id", 0);
  o.decoder_start_id = c.get<int64_t>("decoder_start_token_id", o.pad_id);

  // "relu" (v1.0), "gated-gelu" (v1.1, FLAN: the tanh approximation), or "[gated-]ACT" as HF parses it.
  const auto proj = c.get<std::string>("feed_forward_proj", "relu");
  const auto dash = proj.find('-');
  o.gated = dash != std::string::npos && proj.substr(0, dash) == "gated";
  o.activation = proj == "gated-gelu" ? "gelu_new" : proj.substr(o.gated ? dash + 1 : 0);
  if (o.activation == "swish") o.activation = "silu";
  const bool known = o.activation == "relu" || o.activation == "gelu" || o.activation == "gelu_new" ||
                     o.activation == "silu";
  if (!known || (dash != std::string::npos && !o.gated))
    throw Error(fmt::format("{}: feed_forward_proj '{}' is not supported (relu, gated-gelu, or [gated-]ACT with ACT "
                            "one of relu, gelu, gelu_new, silu)",
                            (c.dir / "config.json").string(), proj));
  if (o.relative_buckets < 4 || o.relative_max_distance < 2)
    throw Error(fmt::format("{}: relative_attention_num_buckets {} / relative_attention_max_distance {} are too small",
                            (c.dir / "config.json").string(), o.relative_buckets, o.relative_max_distance));
  return o;
}

T5Model::T5Model(const ModelConfig& config, T5Options o) : Backbone(config), options_(std::move(o)) {
  const int64_t H = options_.d_model;
  shared_ = register_parameter("shared", at::zeros({options_.vocab, H}));
  // Tied checkpoints use the shared embedding as the LM head too: marking "head" then trains it.
  expose("shared.weight", shared_, options_.tied_head ? "embedding,weight,head" : "embedding,weight");
  site_embed_ = surface_.sites.add({.name = "embed", .kind = PETLAB_SITE_EMBED, .in_features = H, .out_features = H});

  for (int i = 0; i < options_.encoder_layers; ++i)
    encoder_.push_back(register_module("encoder_block" + std::to_string(i),
                                       std::make_shared<T5Block>(options_, surface_, "enc", i)));
  encoder_norm_ = register_module("encoder_norm", std::make_shared<T5LayerNorm>(H, options_.eps));
  expose("encoder.final_layer_norm.weight", encoder_norm_->weight, "norm,weight,enc");

  for (int i = 0; i < options_.decoder_layers; ++i)
    decoder_.push_back(register_module("decoder_block" + std::to_string(i),
                                       std::make_shared<T5Block>(options_, surface_, "dec", i)));
  decoder_norm_ = register_module("decoder_norm", std::make_shared<T5LayerNorm>(H, options_.eps));
  expose("decoder.final_layer_norm.weight", decoder_norm_->weight, "norm,weight,dec");

  if (!options_.tied_head) {
    lm_head_ = register_parameter("lm_head", at::zeros({options_.vocab, H}));
    expose("lm_head.weight", lm_head_, "head,weight,dec");
  }
}

void T5Model::load(const Checkpoint& checkpoint) {
  WeightBinder binder(checkpoint, "");
  for (auto& p : surface_.params.all())
    if (p.name != "shared.weight") binder.bind(p.name, p.tensor);
  // HF saves the shared embedding once as shared.weight; other exporters keep only its aliases.
  std::string embedding = "shared.weight";
  for (const char* alias : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"})
    if (!checkpoint.contains(embedding) && checkpoint.contains(alias)) embedding = alias;
  binder.bind(embedding, shared_);
  binder.ignore("(encoder|decoder)\\.embed_tokens\\.weight");
  if (options_.tied_head) binder.ignore("lm_head\\.weight");  // HF ties it to shared.weight on load
  // Some exports carry a relative bias table on cross-attention that HF never uses.
  binder.ignore("decoder\\.block\\.0\\.layer\\.1\\.EncDecAttention\\.relative_attention_bias\\.weight");
  binder.finish();
}

at::Tensor T5Model::padding_bias(const at::Tensor& mask, at::ScalarType dtype) {
  return (1.0 - mask.to(dtype)).mul(std::numeric_limits<float>::lowest()).view({mask.size(0), 1, 1, mask.size(1)});
}

EncoderOutput T5Model::encode(const at::Tensor& input_ids, const at::Tensor& attention_mask, const at::Tensor&) {
  at::Tensor h = at::embedding(shared_, input_ids);
  at::Tensor mask = attention_mask.defined() ? attention_mask : at::ones_like(input_ids);
  at::Tensor* embed_slots[] = {&h, &mask};
  surface_.sites.run(site_embed_, embed_slots, is_training());
  h = fast_dropout(h, options_.dropout, is_training());

  // Layer 0's relative position bias is shared by every layer; the padding mask rides on it.
  const int64_t T = h.size(1);
  const at::Tensor bias =
      encoder_.front()->self_attention().position_bias(0, T, T) + padding_bias(mask, h.scalar_type());
  for (auto& block : encoder_) h = block->forward(h, bias, {}, {}, nullptr);
  h = fast_dropout(encoder_norm_->forward(h), options_.dropout, is_training());
  return {h, mask};
}

at::Tensor T5Model::run_decoder(at::Tensor h, const at::Tensor& self_bias, const at::Tensor& encoder_hidden,
                                const at::Tensor& cross_bias, T5DecoderState* state) {
  h = fast_dropout(h, options_.dropout, is_training());
  for (size_t i = 0; i < decoder_.size(); ++i)
    h = decoder_[i]->forward(h, self_bias, encoder_hidden, cross_bias, state ? &state->layers[i] : nullptr);
  return fast_dropout(decoder_norm_->forward(h), options_.dropout, is_training());
}

at::Tensor T5Model::lm_logits(const at::Tensor& decoder_hidden) const {
  if (!options_.tied_head) return at::linear(decoder_hidden, lm_head_);
  // Mesh TensorFlow rescales before projecting on the (tied) embedding matrix.
  return at::linear(decoder_hidden * std::pow(static_cast<double>(options_.d_model), -0.5), shared_);
}

at::Tensor T5Model::decode(const EncoderOutput& encoded, const at::Tensor& decoder_input_ids,
                           const at::Tensor& decoder_attention_mask) {
  const int64_t T = decoder_input_ids.size(1);
  const auto float_opts = at::TensorOptions().dtype(at::kFloat).device(shared_.device());
  // Query i sees key j when j <= i and (with a mask) token j is not padding.
  at::Tensor blocked = at::ones({1, 1, T, T}, float_opts.dtype(at::kBool)).triu(1);
  if (decoder_attention_mask.defined())
    blocked = blocked.logical_or(decoder_attention_mask.eq(0).view({-1, 1, 1, T}));
  const at::Tensor mask_bias =
      at::zeros(blocked.sizes(), float_opts).masked_fill(blocked, std::numeric_limits<float>::lowest());
  const at::Tensor self_bias = decoder_.front()->self_attention().position_bias(0, T, T) + mask_bias;

  const at::Tensor cross_bias = padding_bias(encoded.attention_mask, encoded.hidden.scalar_type());
  const at::Tensor h =
      run_decoder(at::embedding(shared_, decoder_input_ids), self_bias, encoded.hidden, cross_bias, nullptr);
  return lm_logits(h);
}

at::Tensor T5Model::shift_right(const at::Tensor& labels) const {
  const at::Tensor start = at::full({labels.size(0), 1}, options_.decoder_start_id, labels.options());
  const at::Tensor shifted = at::cat({start, labels.slice(1, 0, labels.size(1) - 1)}, 1);
  return shifted.masked_fill(shifted.eq(-100), options_.pad_id);
}

at::Tensor T5Model::loss(const EncoderOutput& encoded, const at::Tensor& labels) {
  const at::Tensor logits = decode(encoded, shift_right(labels));
  const at::Tensor targets = labels.masked_fill(labels.eq(options_.pad_id), -100);
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}).to(at::kFloat), targets.reshape({-1}), {},
                                at::Reduction::Mean, /*ignore_index=*/-100);
}

std::shared_ptr<Backbone> make_t5(const ModelConfig& config, const Checkpoint& checkpoint) {
  auto model = std::make_shared<T5Model>(config, T5Options::from_config(config));
  model->load(checkpoint);
  return model;
}

}  // namespace petlab
