// The layers of a T5 stack: RMS layer norm, the feed-forward (ReLU or gated), and the block that chains
// pre-norm self-attention, cross-attention (decoder) and feed-forward, each with a residual.
#pragma once

#include "backbone/t5_attention.hpp"

#include <torch/nn/module.h>

#include <memory>

namespace petlab {

/// T5's layer norm: scales by the root mean square, computed in fp32; no mean subtraction, no bias.
class T5LayerNorm : public torch::nn::Module {
 public:
  T5LayerNorm(int64_t d_model, double eps);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor weight;

 private:
  double eps_;
};

/// wo(dropout(act(wi x))) for v1.0; wo(dropout(act(wi_0 x) * wi_1 x)) for gated v1.1.
/// Sites: ffn.in (wi or wi_0), ffn.in2 (wi_1, gated only), ffn.act (the tensor that enters wo, so IA3's
/// scaling of wo's input lands there), ffn.out (wo).
class T5FeedForward : public torch::nn::Module {
 public:
  T5FeedForward(const T5Options& options, const T5Scope& scope, const std::string& module);
  at::Tensor forward(const at::Tensor& x);

 private:
  at::Tensor linear(const at::Tensor& weight, SiteId site, const at::Tensor& x);
  at::Tensor activation(const at::Tensor& x) const;

  T5Options options_;
  SiteRegistry& sites_;
  at::Tensor wi_, wi_linear_, wo_;
  SiteId site_in_, site_in2_ = 0, site_act_, site_out_;
};

/// One decoder layer's incremental-decoding state (see T5DecoderState).
struct T5LayerCache {
  /// Self-attention keys/values of the tokens so far [B, heads, t, D]: after the attn.k / attn.v sites,
  /// before the attn.kv hooks (those run each step over the whole cache, as in teacher forcing).
  at::Tensor self_keys, self_values;
  /// Cross-attention keys/values and bias over the encoder output, after the xattn.kv hooks: computed once.
  at::Tensor cross_keys, cross_values, cross_bias;
};

class T5Block : public torch::nn::Module {
 public:
  T5Block(const T5Options& options, ModelSurface& surface, const std::string& stack, int layer);

  /// One layer over h [B, T, d_model]. `self_bias` (position bias + mask) broadcasts to [B, heads, T, Tk].
  /// Decoder: `encoder_hidden` and `cross_bias` [B, 1, 1, Ts] feed cross-attention. With a cache (incremental
  /// decoding) h holds only the new tokens: their keys/values are appended to the cache and cross-attention
  /// reads the cached encoder keys/values.
  at::Tensor forward(const at::Tensor& h, const at::Tensor& self_bias, const at::Tensor& encoder_hidden,
                     const at::Tensor& cross_bias, T5LayerCache* cache);
  /// Fills the cache's cross-attention keys/values (after the xattn.kv hooks) for one encoder output.
  void prepare_cross_attention(const at::Tensor& encoder_hidden, const at::Tensor& cross_bias, T5LayerCache& cache);

  T5Attention& self_attention() { return *self_attention_; }

 private:
  /// x + h, with h = dropout(sublayer(norm(x))) passed through the block site first.
  at::Tensor residual(SiteId site, const at::Tensor& x, at::Tensor h);

  T5Options options_;
  SiteRegistry& sites_;
  bool decoder_;
  std::shared_ptr<T5Attention> self_attention_, cross_attention_;
  std::shared_ptr<T5FeedForward> ffn_;
  std::shared_ptr<T5LayerNorm> self_norm_, cross_norm_, ffn_norm_;
  SiteId site_attn_block_, site_xattn_block_ = 0, site_ffn_block_;
};

}  // namespace petlab
