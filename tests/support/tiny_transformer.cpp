#include "support/tiny_transformer.hpp"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/linear.h>

#include <ATen/ATen.h>

#include <cmath>

namespace petlab::testing {

TinyTransformer::TinyTransformer(const TinyTransformerOptions& o) : options_(o) {
  const int64_t H = o.hidden;
  tokens_ = register_module("tokens", torch::nn::Embedding(o.vocab, H));
  positions_ = register_module("positions", torch::nn::Embedding(o.max_positions, H));
  embed_norm_ = register_module("embed_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({H})));
  expose("embeddings.word.weight", tokens_->weight, "embedding,weight", -1);
  expose("embeddings.position.weight", positions_->weight, "embedding,weight", -1);
  expose("embeddings.norm.weight", embed_norm_->weight, "norm,weight", -1);
  expose("embeddings.norm.bias", embed_norm_->bias, "norm,bias", -1);
  site_embed_ = surface_.sites.add({.name = "embed", .kind = PETLAB_SITE_EMBED, .in_features = H, .out_features = H});

  auto block = [&](const std::string& name, int layer) {
    return surface_.sites.add({.name = name, .kind = PETLAB_SITE_BLOCK, .stack = "enc", .layer = layer,
                               .in_features = H, .out_features = H});
  };
  for (int i = 0; i < o.layers; ++i) {
    Layer l;
    const std::string p = "enc.L" + std::to_string(i) + ".";
    const std::string w = "layers." + std::to_string(i) + ".";    // parameter names, checkpoint style
    const std::string m = "layer" + std::to_string(i) + "_";        // submodule names may not contain dots
    auto make_linear = [&](const char* name, int64_t in, int64_t out, const char* tags, SiteId* site) {
      auto lin = register_module(m + name, torch::nn::Linear(in, out));
      const std::string weight = w + name + ".weight", bias = w + name + ".bias";
      expose(weight, lin->weight, std::string(tags) + ",weight,enc", i);
      expose(bias, lin->bias, std::string(tags) + ",bias,enc", i);
      // "q" -> "attn.q", "ffn_in" -> "ffn.in"
      std::string site_name = std::string(name);
      site_name = site_name.rfind("ffn_", 0) == 0 ? "ffn." + site_name.substr(4) : "attn." + site_name;
      *site = surface_.sites.add({.name = p + site_name, .kind = PETLAB_SITE_LINEAR, .stack = "enc", .layer = i,
                                  .in_features = in, .out_features = out, .weight = weight, .bias = bias});
      return lin;
    };
    l.q = make_linear("q", H, H, "attn", &l.site_q);
    l.k = make_linear("k", H, H, "attn", &l.site_k);
    l.v = make_linear("v", H, H, "attn", &l.site_v);
    l.site_kv = surface_.sites.add({.name = p + "attn.kv", .kind = PETLAB_SITE_ATTENTION, .stack = "enc", .layer = i,
                                    .num_heads = o.heads, .head_dim = H / o.heads});
    l.o = make_linear("o", H, H, "attn", &l.site_o);
    l.site_attn_block = block(p + "attn.block", i);
    l.attn_norm = register_module(m + "attn_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({H})));
    expose(w + "attn_norm.weight", l.attn_norm->weight, "norm,weight,attn,enc", i);
    expose(w + "attn_norm.bias", l.attn_norm->bias, "norm,bias,attn,enc", i);
    l.in = make_linear("ffn_in", H, o.ffn, "ffn", &l.site_in);
    l.site_act = surface_.sites.add({.name = p + "ffn.act", .kind = PETLAB_SITE_ACTIVATION, .stack = "enc", .layer = i,
                                     .in_features = o.ffn, .out_features = o.ffn});
    l.out = make_linear("ffn_out", o.ffn, H, "ffn", &l.site_out);
    l.site_ffn_block = block(p + "ffn.block", i);
    l.ffn_norm = register_module(m + "ffn_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({H})));
    expose(w + "ffn_norm.weight", l.ffn_norm->weight, "norm,weight,ffn,enc", i);
    expose(w + "ffn_norm.bias", l.ffn_norm->bias, "norm,bias,ffn,enc", i);
    layers_.push_back(l);
  }
}

void TinyTransformer::expose(const std::string& name, const at::Tensor& tensor, const std::string& tags, int layer) {
  surface_.params.add({name, tensor, tags, "backbone", layer});
}

at::Tensor TinyTransformer::linear(torch::nn::Linear layer, SiteId site, const at::Tensor& x) {
  at::Tensor in = x;
  at::Tensor y = layer->forward(x);
  at::Tensor* slots[] = {&in, &y};
  surface_.sites.run(site, slots, is_training());
  return y;
}

at::Tensor TinyTransformer::attention(Layer& l, const at::Tensor& x, const at::Tensor& bias_in) {
  const auto B = x.size(0), T = x.size(1), heads = options_.heads, D = options_.hidden / heads;
  auto split = [&](const at::Tensor& t) { return t.view({B, T, heads, D}).transpose(1, 2); };
  at::Tensor q = split(linear(l.q, l.site_q, x));
  at::Tensor k = split(linear(l.k, l.site_k, x));
  at::Tensor v = split(linear(l.v, l.site_v, x));
  at::Tensor bias = bias_in;
  at::Tensor* kv_slots[] = {&k, &v, &bias};
  surface_.sites.run(l.site_kv, kv_slots, is_training());
  at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(D)) + bias;
  at::Tensor context = at::matmul(at::softmax(scores, -1), v).transpose(1, 2).reshape({B, T, options_.hidden});
  return linear(l.o, l.site_o, context);
}

at::Tensor TinyTransformer::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask) {
  const auto T = input_ids.size(1);
  at::Tensor positions = at::arange(T, input_ids.options()).unsqueeze(0);
  at::Tensor h = tokens_->forward(input_ids) + positions_->forward(positions);
  at::Tensor mask = attention_mask;
  at::Tensor* embed_slots[] = {&h, &mask};
  surface_.sites.run(site_embed_, embed_slots, is_training());
  h = embed_norm_->forward(h);
  // Additive bias [B,1,1,Tk]: 0 where attended, a large negative number on padding.
  at::Tensor bias = (1.0 - mask.to(h.dtype())).mul(-1e9).unsqueeze(1).unsqueeze(1);

  for (auto& l : layers_) {
    at::Tensor x = h;
    at::Tensor a = attention(l, x, bias);
    at::Tensor* attn_slots[] = {&x, &a};
    surface_.sites.run(l.site_attn_block, attn_slots, is_training());
    h = l.attn_norm->forward(x + a);

    x = h;
    at::Tensor act = at::gelu(linear(l.in, l.site_in, x));
    at::Tensor* act_slots[] = {&act};
    surface_.sites.run(l.site_act, act_slots, is_training());
    at::Tensor f = linear(l.out, l.site_out, act);
    at::Tensor* ffn_slots[] = {&x, &f};
    surface_.sites.run(l.site_ffn_block, ffn_slots, is_training());
    h = l.ffn_norm->forward(x + f);
  }
  return h;
}

}  // namespace petlab::testing
