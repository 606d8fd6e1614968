// T5 v1.0 and v1.1 / FLAN-T5 as a native LibTorch encoder-decoder with petlab's sites:
//   embed                                   encoder input embeddings (T5 has no position embeddings)
//   {enc|dec}.L{i}.attn.{q,k,v,o,kv,block}  self-attention
//   dec.L{i}.xattn.{q,k,v,o,kv,block}       cross-attention
//   {enc|dec}.L{i}.ffn.{in,act,out,block}   feed-forward; gated v1.1 adds ffn.in2 (wi_1), ffn.in being wi_0
// Parameters keep their checkpoint names ("encoder.block.0.layer.0.SelfAttention.q.weight"); T5 has no biases.
#pragma once

#include "backbone/backbone.hpp"
#include "backbone/checkpoint.hpp"
#include "backbone/t5_block.hpp"
#include "backbone/t5_common.hpp"

#include <memory>
#include <vector>

namespace petlab {

/// Incremental decoding state: one cache per decoder layer and the number of tokens decoded so far.
/// Cross-attention keys/values are computed once by start_decoding; self-attention ones grow per step.
struct T5DecoderState {
  std::vector<T5LayerCache> layers;
  int64_t length = 0;  ///< tokens fed so far: the next token's query position
  int64_t batch = 0;   ///< rows in the cache (B, or B * beams)
};

class T5Model : public Backbone {
 public:
  T5Model(const ModelConfig& config, T5Options options);

  /// Copies the checkpoint's tensors into the module. `shared.weight` may appear under its aliases
  /// encoder/decoder.embed_tokens.weight; a tied checkpoint's redundant lm_head.weight is ignored.
  void load(const Checkpoint& checkpoint);

  bool is_encoder_decoder() const override { return true; }
  int64_t hidden_size() const override { return options_.d_model; }
  int64_t vocab_size() const override { return options_.vocab; }
  const T5Options& options() const { return options_; }

  /// Encoder states. token_type_ids is ignored (T5 has no segments).
  EncoderOutput encode(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                       const at::Tensor& token_type_ids = {}) override;

  /// Teacher-forced logits [B, Tt, V]. decoder_attention_mask [B, Tt] may be undefined (all tokens attended).
  at::Tensor decode(const EncoderOutput& encoded, const at::Tensor& decoder_input_ids,
                    const at::Tensor& decoder_attention_mask = {});

  /// Labels shifted right behind decoder_start_token_id, with -100 replaced by the pad id (HF's _shift_right).
  at::Tensor shift_right(const at::Tensor& labels) const;

  /// Mean token cross-entropy of `labels` [B, Tt] given the encoder output, with decoder inputs
  /// shift_right(labels), as T5ForConditionalGeneration(labels=...) computes it. Labels -100 are ignored, and so
  /// are pad ids (T5 never predicts pad; HF's seq2seq scripts turn label padding into -100 the same way).
  at::Tensor loss(const EncoderOutput& encoded, const at::Tensor& labels);

  /// Starts incremental decoding over an encoder output: runs the cross-attention k/v sites and xattn.kv hooks
  /// once. Feed decoder_start_token_id first. For beam search, expand the encoder output to B * beams rows first.
  T5DecoderState start_decoding(const EncoderOutput& encoded);
  /// Feeds next_ids [B, 1]; returns the logits [B, V] for the following token. Step t equals row t of decode()
  /// on the same prefix (hooks included: attn.kv hooks see the whole cached sequence each step).
  at::Tensor decode_step(T5DecoderState& state, const at::Tensor& next_ids);
  /// Reorders the cached rows (beam search): row i of the new state is row beam_indices[i] of the old one.
  static void reorder(T5DecoderState& state, const at::Tensor& beam_indices);

 private:
  /// Decoder stack over the embedded tokens `h`; with `state`, incremental (h holds the new tokens only).
  at::Tensor run_decoder(at::Tensor h, const at::Tensor& self_bias, const at::Tensor& encoder_hidden,
                         const at::Tensor& cross_bias, T5DecoderState* state);
  at::Tensor lm_logits(const at::Tensor& decoder_hidden) const;
  /// [B, 1, 1, T] additive bias: 0 on tokens, the dtype's lowest value on padding (as HF does).
  static at::Tensor padding_bias(const at::Tensor& mask, at::ScalarType dtype);

  T5Options options_;
  at::Tensor shared_, lm_head_;
  std::vector<std::shared_ptr<T5Block>> encoder_, decoder_;
  std::shared_ptr<T5LayerNorm> encoder_norm_, decoder_norm_;
  SiteId site_embed_ = 0;
};

}  // namespace petlab
