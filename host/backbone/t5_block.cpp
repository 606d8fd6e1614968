#include "backbone/t5_block.hpp"

#include "backbone/dropout.hpp"

#include <ATen/ATen.h>

namespace petlab {

T5LayerNorm::T5LayerNorm(int64_t d_model, double eps) : eps_(eps) {
  weight = register_parameter("weight", at::ones({d_model}));
}

at::Tensor T5LayerNorm::forward(const at::Tensor& x) const {
  const at::Tensor variance = x.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true);
  return weight * (x * at::rsqrt(variance + eps_));
}

T5FeedForward::T5FeedForward(const T5Options& o, const T5Scope& scope, const std::string& module)
    : options_(o), sites_(scope.surface.sites) {
  auto projection = [&](const std::string& name, const std::string& site, int64_t in, int64_t out, SiteId* id) {
    at::Tensor w = register_parameter(name, at::zeros({out, in}));
    scope.expose(module + name + ".weight", w, "weight,ffn," + site);
    *id = scope.add_linear_site(site, module + name + ".weight", in, out);
    return w;
  };
  if (o.gated) {
    wi_ = projection("wi_0", "ffn.in", o.d_model, o.d_ff, &site_in_);
    wi_linear_ = projection("wi_1", "ffn.in2", o.d_model, o.d_ff, &site_in2_);
  } else {
    wi_ = projection("wi", "ffn.in", o.d_model, o.d_ff, &site_in_);
  }
  site_act_ = scope.add_site("ffn.act", PETLAB_SITE_ACTIVATION, o.d_ff, o.d_ff);
  wo_ = projection("wo", "ffn.out", o.d_ff, o.d_model, &site_out_);
}

at::Tensor T5FeedForward::linear(const at::Tensor& weight, SiteId site, const at::Tensor& x) {
  at::Tensor in = x;
  at::Tensor y = at::linear(x, weight);
  at::Tensor* slots[] = {&in, &y};
  sites_.run(site, slots, is_training());
  return y;
}

at::Tensor T5FeedForward::activation(const at::Tensor& x) const {
  if (options_.activation == "relu") return at::relu(x);
  if (options_.activation == "gelu_new") return at::gelu(x, "tanh");
  if (options_.activation == "gelu") return at::gelu(x);
  return at::silu(x);
}

at::Tensor T5FeedForward::forward(const at::Tensor& x) {
  at::Tensor act = activation(linear(wi_, site_in_, x));
  if (options_.gated) act = act * linear(wi_linear_, site_in2_, x);
  at::Tensor* act_slots[] = {&act};
  sites_.run(site_act_, act_slots, is_training());
  // Dropout after the site: a scaling hook there commutes with it, and wo sees exactly what HF's wo sees.
  return linear(wo_, site_out_, fast_dropout(act, options_.dropout, is_training()));
}

T5Block::T5Block(const T5Options& o, ModelSurface& surface, const std::string& stack, int layer)
    : options_(o), sites_(surface.sites), decoder_(stack == "dec") {
  const T5Scope scope{surface, stack, layer,
                      (decoder_ ? "decoder.block." : "encoder.block.") + std::to_string(layer) + "."};
  const int64_t H = o.d_model;
  auto norm = [&](const std::string& name, const std::string& sublayer, const std::string& group) {
    auto n = register_module(name, std::make_shared<T5LayerNorm>(H, o.eps));
    scope.expose(sublayer + "layer_norm.weight", n->weight, "norm,weight," + group);
    return n;
  };

  self_norm_ = norm("self_attention_norm", "layer.0.", "attn");
  self_attention_ = register_module("self_attention", std::make_shared<T5Attention>(o, scope, false, layer == 0));
  site_attn_block_ = scope.add_block_site("attn.block", H, "layer.0.layer_norm.weight", o.eps);
  if (decoder_) {
    cross_norm_ = norm("cross_attention_norm", "layer.1.", "xattn");
    cross_attention_ = register_module("cross_attention", std::make_shared<T5Attention>(o, scope, true, false));
    site_xattn_block_ = scope.add_block_site("xattn.block", H, "layer.1.layer_norm.weight", o.eps);
  }
  const std::string ffn_layer = decoder_ ? "layer.2." : "layer.1.";
  ffn_norm_ = norm("ffn_norm", ffn_layer, "ffn");
  ffn_ = register_module("ffn", std::make_shared<T5FeedForward>(o, scope, ffn_layer + "DenseReluDense."));
  site_ffn_block_ = scope.add_block_site("ffn.block", H, ffn_layer + "layer_norm.weight", o.eps);
}

at::Tensor T5Block::residual(SiteId site, const at::Tensor& x, at::Tensor h) {
  h = fast_dropout(h, options_.dropout, is_training());
  at::Tensor in = x;
  at::Tensor* slots[] = {&in, &h};
  sites_.run(site, slots, is_training());
  return x + h;
}

void T5Block::prepare_cross_attention(const at::Tensor& encoder_hidden, const at::Tensor& cross_bias,
                                      T5LayerCache& cache) {
  std::tie(cache.cross_keys, cache.cross_values) = cross_attention_->keys_values(encoder_hidden);
  cache.cross_bias = cross_bias;
  cross_attention_->run_kv_hooks(cache.cross_keys, cache.cross_values, cache.cross_bias, /*query_length=*/0);
}

at::Tensor T5Block::forward(const at::Tensor& h_in, const at::Tensor& self_bias, const at::Tensor& encoder_hidden,
                            const at::Tensor& cross_bias, T5LayerCache* cache) {
  at::Tensor h = h_in;
  {
    const at::Tensor normed = self_norm_->forward(h);
    const at::Tensor queries = self_attention_->query(normed);
    auto [keys, values] = self_attention_->keys_values(normed);
    if (cache != nullptr) {
      if (cache->self_keys.defined()) {
        keys = at::cat({cache->self_keys, keys}, 2);
        values = at::cat({cache->self_values, values}, 2);
      }
      cache->self_keys = keys;
      cache->self_values = values;
    }
    at::Tensor bias = self_bias;
    self_attention_->run_kv_hooks(keys, values, bias, queries.size(2));
    h = residual(site_attn_block_, h, self_attention_->attend(queries, keys, values, bias));
  }
  if (decoder_) {
    const at::Tensor queries = cross_attention_->query(cross_norm_->forward(h));
    at::Tensor keys, values, bias;
    if (cache != nullptr && cache->cross_keys.defined()) {
      keys = cache->cross_keys;
      values = cache->cross_values;
      bias = cache->cross_bias;
    } else {
      std::tie(keys, values) = cross_attention_->keys_values(encoder_hidden);
      bias = cross_bias;
      cross_attention_->run_kv_hooks(keys, values, bias, queries.size(2));
    }
    h = residual(site_xattn_block_, h, cross_attention_->attend(queries, keys, values, bias));
  }
  return residual(site_ffn_block_, h, ffn_->forward(ffn_norm_->forward(h)));
}

}  // namespace petlab
