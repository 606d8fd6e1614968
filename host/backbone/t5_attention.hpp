// T5 attention: relative position buckets, and one attention sublayer (self or cross) with its sites.
// T5 attention has no 1/sqrt(d) scaling (the initialisation absorbs it) and no biases.
#pragma once

#include "backbone/t5_common.hpp"

#include <torch/nn/module.h>

#include <utility>

namespace petlab {

/// Maps relative positions (key - query) to bucket ids in [0, num_buckets), as Mesh TensorFlow does: exact
/// buckets for small distances, logarithmically wider ones up to max_distance, one bucket beyond. The encoder
/// (bidirectional) gives each direction half the buckets; the decoder sends every future key to bucket 0.
at::Tensor t5_relative_position_bucket(const at::Tensor& relative_position, bool bidirectional, int64_t num_buckets,
                                       int64_t max_distance);

class T5Attention : public torch::nn::Module {
 public:
  /// Self-attention ("attn", checkpoint `layer.0.SelfAttention`) or cross-attention ("xattn",
  /// `layer.1.EncDecAttention`). Only layer 0's self-attention owns a relative position table.
  T5Attention(const T5Options& options, const T5Scope& scope, bool cross, bool relative_bias);

  /// Queries [B, heads, Tq, D] after the q site.
  at::Tensor query(const at::Tensor& x);
  /// Keys and values [B, heads, Tk, D] of `source`, after the k and v sites.
  std::pair<at::Tensor, at::Tensor> keys_values(const at::Tensor& source);
  /// The kv site: hooks may prepend keys/values (prefix tuning) and extend `bias` with them. In self-attention the
  /// prepended keys then get the position bias of positions just before the sequence (-n ... -1), as HF computes
  /// for a cache of n tokens; `query_length` says where the queries sit (the last Tq of the keys the hooks saw).
  void run_kv_hooks(at::Tensor& keys, at::Tensor& values, at::Tensor& bias, int64_t query_length);
  /// softmax(q k^T + bias) v through the o site -> [B, Tq, d_model]. `bias` broadcasts to [B, heads, Tq, Tk].
  at::Tensor attend(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                    const at::Tensor& bias);

  bool has_position_bias() const { return relative_bias_.defined(); }
  /// [1, heads, Tq, Tk] for queries at positions first_query ... first_query + Tq - 1 and keys at 0 ... Tk - 1.
  at::Tensor position_bias(int64_t first_query, int64_t query_length, int64_t key_length) const;

 private:
  /// [1, heads, Tq, Tk] from `table` for queries from first_query and keys from first_key.
  at::Tensor relative_bias(const at::Tensor& table, int64_t first_query, int64_t query_length, int64_t first_key,
                           int64_t key_length) const;
  at::Tensor linear(const at::Tensor& weight, SiteId site, const at::Tensor& x);
  at::Tensor split_heads(const at::Tensor& t) const;

  T5Options options_;
  SiteRegistry& sites_;
  bool bidirectional_;
  at::Tensor q_, k_, v_, o_, relative_bias_;
  /// Self-attention: the stack's table (owned by layer 0, shared by every layer), for prepended keys.
  at::Tensor prefix_table_;
  SiteId site_q_, site_k_, site_v_, site_kv_, site_o_;
};

}  // namespace petlab
