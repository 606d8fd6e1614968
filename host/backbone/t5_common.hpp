// What every part of the T5 module shares: the options read from config.json, and the scope through which a
// part registers its sites and tagged parameters under the names DESIGN.md and the checkpoint use.
#pragma once

#include "backbone/config.hpp"
#include "model/surface.hpp"

#include <ATen/core/Tensor.h>

#include <string>

namespace petlab {

struct T5Options {
  int64_t vocab = 0, d_model = 0, d_kv = 0, d_ff = 0, heads = 0;
  int64_t encoder_layers = 0, decoder_layers = 0;
  int64_t relative_buckets = 32, relative_max_distance = 128;
  double dropout = 0.1, eps = 1e-6;
  /// "relu" (T5 v1.0), "gelu_new" (v1.1 / FLAN "gated-gelu"), "gelu", "silu".
  std::string activation = "relu";
  /// v1.1: the FFN multiplies act(wi_0 x) by wi_1 x.
  bool gated = false;
  /// v1.0: the LM head is the shared embedding, and the decoder output is scaled by d_model^-0.5 before it.
  bool tied_head = true;
  int64_t pad_id = 0, decoder_start_id = 0;

  int64_t inner_dim() const { return heads * d_kv; }
  static T5Options from_config(const ModelConfig& config);
};

/// One layer of one stack, as a place to register things: sites "enc.L3.attn.q", parameters
/// "encoder.block.3.layer.0.SelfAttention.q.weight" tagged with the stack and the layer index.
struct T5Scope {
  ModelSurface& surface;
  std::string stack;       ///< "enc" | "dec"
  int layer;
  std::string checkpoint;  ///< "encoder.block.3."

  std::string site_name(const std::string& sub) const { return stack + ".L" + std::to_string(layer) + "." + sub; }

  /// `tags` name the group and submodule ("weight,attn,attn.q"); the stack is appended.
  void expose(const std::string& name, const at::Tensor& tensor, const std::string& tags) const {
    surface.params.add({checkpoint + name, tensor, tags + "," + stack, "backbone", layer});
  }

  SiteId add_site(const std::string& sub, petlab_site_kind_t kind, int64_t in = 0, int64_t out = 0) const {
    return surface.sites.add(
        {.name = site_name(sub), .kind = kind, .stack = stack, .layer = layer, .in_features = in, .out_features = out});
  }

  /// A sublayer site; T5 normalises the sublayer's input (pre-norm) with an RMS norm that has no bias.
  SiteId add_block_site(const std::string& sub, int64_t hidden, const std::string& norm_weight, double eps) const {
    return surface.sites.add({.name = site_name(sub), .kind = PETLAB_SITE_BLOCK, .stack = stack, .layer = layer,
                              .in_features = hidden, .out_features = hidden, .norm_weight = checkpoint + norm_weight,
                              .norm_position = "pre", .norm_eps = eps});
  }

  SiteId add_linear_site(const std::string& sub, const std::string& weight, int64_t in, int64_t out) const {
    return surface.sites.add({.name = site_name(sub), .kind = PETLAB_SITE_LINEAR, .stack = stack, .layer = layer,
                              .in_features = in, .out_features = out, .weight = checkpoint + weight});
  }
};

}  // namespace petlab
