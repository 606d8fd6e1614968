// A two-layer post-LN encoder written for tests: small enough to reason about, shaped like BERT, and
// exposing the full site vocabulary of DESIGN.md so ABI tests exercise every site kind.
#pragma once

#include "model/surface.hpp"

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <vector>

namespace petlab::testing {

struct TinyTransformerOptions {
  int64_t vocab = 50, hidden = 16, heads = 2, ffn = 32, layers = 2, max_positions = 32;
};

class TinyTransformer : public torch::nn::Module {
 public:
  explicit TinyTransformer(const TinyTransformerOptions& options = {});

  /// input_ids [B,T] int64, attention_mask [B,T] (1 = token) -> hidden states [B,T,H].
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask);

  ModelSurface& surface() { return surface_; }
  const TinyTransformerOptions& options() const { return options_; }

 private:
  struct Layer {
    torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr}, in{nullptr}, out{nullptr};
    torch::nn::LayerNorm attn_norm{nullptr}, ffn_norm{nullptr};
    SiteId site_q, site_k, site_v, site_o, site_kv, site_attn_block, site_in, site_act, site_out, site_ffn_block;
  };
  at::Tensor linear(torch::nn::Linear layer, SiteId site, const at::Tensor& x);
  at::Tensor attention(Layer& layer, const at::Tensor& x, const at::Tensor& bias);
  void expose(const std::string& name, const at::Tensor& tensor, const std::string& tags, int layer);

  TinyTransformerOptions options_;
  torch::nn::Embedding tokens_{nullptr}, positions_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr};
  std::vector<Layer> layers_;
  SiteId site_embed_;
  ModelSurface surface_;
};

}  // namespace petlab::testing
