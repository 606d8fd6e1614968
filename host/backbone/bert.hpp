// BERT-family encoders (BERT, MiniLM, RoBERTa) as native LibTorch modules with petlab's sites:
// embed, enc.L{i}.attn.{q,k,v,o,kv,block}, enc.L{i}.ffn.{in,act,out,block}.
#pragma once

#include "backbone/backbone.hpp"
#include "backbone/checkpoint.hpp"
#include "backbone/stacked_weights.hpp"

#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <array>
#include <vector>

namespace petlab {

class AttentionGroups;
class TokenPacking;

struct BertOptions {
  int64_t vocab = 0, hidden = 0, layers = 0, heads = 0, intermediate = 0, max_positions = 0, type_vocab = 0;
  int64_t pad_id = 0;
  double eps = 1e-12, hidden_dropout = 0.1, attention_dropout = 0.1;
  std::string activation = "gelu";
  /// RoBERTa counts positions from pad_id + 1 and skips padding when numbering them.
  bool roberta_positions = false;

  static BertOptions from_config(const ModelConfig& config);
};

class BertEncoder : public Backbone {
 public:
  BertEncoder(const ModelConfig& config, BertOptions options);

  bool is_encoder_decoder() const override { return false; }
  int64_t hidden_size() const override { return options_.hidden; }
  int64_t vocab_size() const override { return options_.vocab; }
  EncoderOutput encode(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                       const at::Tensor& token_type_ids = {}) override;
  /// tanh(dense(h[:, 0])) when the checkpoint has a pooler, else an undefined tensor.
  at::Tensor pool(const at::Tensor& hidden);
  bool has_pooler() const { return has_pooler_; }

  /// Copies the checkpoint's tensors into the module; the binder reports anything that does not fit.
  void load(const Checkpoint& checkpoint);

 private:
  struct Layer {
    torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr}, in{nullptr}, out{nullptr};
    torch::nn::LayerNorm attn_norm{nullptr}, ffn_norm{nullptr};
    SiteId site_q, site_k, site_v, site_kv, site_o, site_attn_block, site_in, site_act, site_out, site_ffn_block;
    StackedWeights qkv_weight, qkv_bias;  ///< q, k, v stacked for one GEMM
  };
  void build_layer(int index);
  /// q, k and v from one GEMM over their stacked weights, each then through its site's hooks.
  std::array<at::Tensor, 3> project_qkv(Layer& layer, const at::Tensor& x, const TokenPacking& packing);
  /// A linear layer and its site's hooks, on packed tokens (rows [N, in]) or the padded layout.
  at::Tensor linear(torch::nn::Linear layer, SiteId site, const at::Tensor& x, const TokenPacking& packing);
  /// Self-attention of a layer; with `groups` (packed tokens, no hooks on the layer's attention site) by groups
  /// of similar lengths, else on the padded layout.
  at::Tensor self_attention(Layer& layer, const at::Tensor& x, const at::Tensor& bias, const TokenPacking& packing,
                            const AttentionGroups* groups);
  /// Runs the hooks of a block site (if any) on the padded layout; h is the sublayer output before the residual.
  void run_block(SiteId site, const at::Tensor& x, at::Tensor& h, const TokenPacking& packing);
  at::Tensor activation(const at::Tensor& x) const;
  at::Tensor position_ids(const at::Tensor& input_ids, int64_t length) const;

  BertOptions options_;
  torch::nn::Embedding word_{nullptr}, position_{nullptr}, token_type_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr};
  torch::nn::Linear pooler_{nullptr};
  bool has_pooler_ = false;
  std::vector<Layer> layers_;
  SiteId site_embed_ = 0;
};

}  // namespace petlab
