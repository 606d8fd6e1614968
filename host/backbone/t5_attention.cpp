#include "backbone/t5_attention.hpp"

#include "backbone/attention.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace petlab {

at::Tensor t5_relative_position_bucket(const at::Tensor& relative_position, bool bidirectional, int64_t num_buckets,
                                       int64_t max_distance) {
  at::Tensor buckets = at::zeros_like(relative_position);
  at::Tensor distance;
  if (bidirectional) {
    num_buckets /= 2;
    buckets = relative_position.gt(0).to(at::kLong) * num_buckets;
    distance = relative_position.abs();
  } else {
    distance = -relative_position.clamp_max(0);
  }
  const int64_t max_exact = num_buckets / 2;
  const at::Tensor is_small = distance.lt(max_exact);
  // The same float32 operations in the same order as HF, so the truncation lands on the same buckets.
  // Clamped so log never sees 0: those distances take the exact branch anyway.
  const at::Tensor scaled = at::log(distance.clamp_min(max_exact).to(at::kFloat) / static_cast<double>(max_exact)) /
                            std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)) *
                            static_cast<double>(num_buckets - max_exact);
  const at::Tensor if_large = (scaled.to(at::kLong) + max_exact).clamp_max(num_buckets - 1);
  return buckets + at::where(is_small, distance, if_large);
}

T5Attention::T5Attention(const T5Options& o, const T5Scope& scope, bool cross, bool relative_bias)
    : options_(o), sites_(scope.surface.sites), bidirectional_(scope.stack == "enc") {
  const std::string group = cross ? "xattn" : "attn";
  const std::string module = cross ? "layer.1.EncDecAttention." : "layer.0.SelfAttention.";
  const int64_t inner = o.inner_dim();
  auto projection = [&](const std::string& name, int64_t in, int64_t out, SiteId* site) {
    at::Tensor w = register_parameter(name, at::zeros({out, in}));
    scope.expose(module + name + ".weight", w, "weight," + group + "," + group + "." + name);
    *site = scope.add_linear_site(group + "." + name, module + name + ".weight", in, out);
    return w;
  };
  q_ = projection("q", o.d_model, inner, &site_q_);
  k_ = projection("k", o.d_model, inner, &site_k_);
  v_ = projection("v", o.d_model, inner, &site_v_);
  site_kv_ = scope.surface.sites.add({.name = scope.site_name(group + ".kv"), .kind = PETLAB_SITE_ATTENTION,
                                      .stack = scope.stack, .layer = scope.layer, .num_heads = o.heads,
                                      .head_dim = o.d_kv});
  o_ = projection("o", inner, o.d_model, &site_o_);
  if (relative_bias) {
    relative_bias_ = register_parameter("relative_attention_bias", at::zeros({o.relative_buckets, o.heads}));
    scope.expose(module + "relative_attention_bias.weight", relative_bias_, "weight," + group + "," + group +
                                                                                ".relative_bias");
  }
  if (!cross) {
    // Layer 0 of the stack registered the table before this layer was built; share its tensor (same storage).
    const std::string table = scope.checkpoint.substr(0, scope.checkpoint.find(".block.")) +
                              ".block.0.layer.0.SelfAttention.relative_attention_bias.weight";
    const Parameter* shared = relative_bias ? nullptr : scope.surface.params.find(table);
    prefix_table_ = relative_bias ? relative_bias_ : (shared != nullptr ? shared->tensor : at::Tensor());
  }
}

at::Tensor T5Attention::linear(const at::Tensor& weight, SiteId site, const at::Tensor& x) {
  at::Tensor in = x;
  at::Tensor y = at::linear(x, weight);
  at::Tensor* slots[] = {&in, &y};
  sites_.run(site, slots, is_training());
  return y;
}

at::Tensor T5Attention::split_heads(const at::Tensor& t) const {
  return t.reshape({t.size(0), t.size(1), options_.heads, options_.d_kv}).transpose(1, 2);
}

at::Tensor T5Attention::query(const at::Tensor& x) { return split_heads(linear(q_, site_q_, x)); }

std::pair<at::Tensor, at::Tensor> T5Attention::keys_values(const at::Tensor& source) {
  return {split_heads(linear(k_, site_k_, source)), split_heads(linear(v_, site_v_, source))};
}

void T5Attention::run_kv_hooks(at::Tensor& keys, at::Tensor& values, at::Tensor& bias, int64_t query_length) {
  const int64_t before = keys.size(2);
  at::Tensor* slots[] = {&keys, &values, &bias};
  sites_.run(site_kv_, slots, is_training());
  const int64_t added = keys.size(2) - before;
  if (added <= 0 || !prefix_table_.defined() || !bias.defined() || bias.size(-1) != keys.size(2)) return;
  // HF runs a prefix as a cache of `added` tokens: queries move to positions added..., so a prefix key j sees the
  // bucket of distance (j - added) - query. Same distances here with the sequence kept at 0...: the hook's zero
  // columns for the prefix get that bias, the real columns already carry theirs.
  const at::Tensor prefix_bias =
      relative_bias(prefix_table_, before - query_length, query_length, -added, added).to(bias.scalar_type());
  bias = bias + at::constant_pad_nd(prefix_bias, {0, before});
}

at::Tensor T5Attention::attend(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                               const at::Tensor& bias) {
  const double dropout = is_training() ? options_.dropout : 0.0;
  const at::Tensor context = attention(queries, keys, values, bias.to(queries.dtype()), dropout, /*scale=*/1.0);
  const int64_t B = queries.size(0), Tq = queries.size(2);
  return linear(o_, site_o_, context.transpose(1, 2).reshape({B, Tq, options_.inner_dim()}));
}

at::Tensor T5Attention::position_bias(int64_t first_query, int64_t query_length, int64_t key_length) const {
  return relative_bias(relative_bias_, first_query, query_length, 0, key_length);
}

at::Tensor T5Attention::relative_bias(const at::Tensor& table, int64_t first_query, int64_t query_length,
                                      int64_t first_key, int64_t key_length) const {
  const auto opts = at::TensorOptions().dtype(at::kLong).device(table.device());
  const at::Tensor query_pos = at::arange(first_query, first_query + query_length, opts).unsqueeze(1);
  const at::Tensor key_pos = at::arange(first_key, first_key + key_length, opts).unsqueeze(0);
  const at::Tensor buckets = t5_relative_position_bucket(key_pos - query_pos, bidirectional_,
                                                         options_.relative_buckets, options_.relative_max_distance);
  return at::embedding(table, buckets).permute({2, 0, 1}).unsqueeze(0);  // [1, heads, Tq, Tk]
}

}  // namespace petlab
