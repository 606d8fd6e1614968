#include "backbone/bert.hpp"

#include "backbone/architectures.hpp"
#include "backbone/attention.hpp"
#include "backbone/attention_groups.hpp"
#include "backbone/dropout.hpp"
#include "backbone/token_packing.hpp"
#include "core/error.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

namespace petlab {

BertOptions BertOptions::from_config(const ModelConfig& c) {
  BertOptions o;
  o.vocab = c.get<int64_t>("vocab_size");
  o.hidden = c.get<int64_t>("hidden_size");
  o.layers = c.get<int64_t>("num_hidden_layers");
  o.heads = c.get<int64_t>("num_attention_heads");
  o.intermediate = c.get<int64_t>("intermediate_size");
  o.max_positions = c.get<int64_t>("max_position_embeddings");
  o.type_vocab = c.get<int64_t>("type_vocab_size", 2);
  o.pad_id = c.get<int64_t>("pad_token_id", 0);
  o.eps = c.get<double>("layer_norm_eps", 1e-12);
  o.hidden_dropout = c.get<double>("hidden_dropout_prob", 0.1);
  o.attention_dropout = c.get<double>("attention_probs_dropout_prob", 0.1);
  o.activation = c.get<std::string>("hidden_act", "gelu");
  o.roberta_positions = c.model_type == "roberta";
  if (o.hidden % o.heads != 0)
    throw Error((c.dir / "config.json").string() + ": hidden_size " + std::to_string(o.hidden) +
                " is not divisible by num_attention_heads " + std::to_string(o.heads));
  if (o.activation != "gelu" && o.activation != "gelu_new" && o.activation != "relu")
    throw Error((c.dir / "config.json").string() + ": hidden_act '" + o.activation +
                "' is not supported (gelu, gelu_new, relu)");
  const auto pe = c.get<std::string>("position_embedding_type", "absolute");
  if (pe != "absolute")
    throw Error((c.dir / "config.json").string() + ": position_embedding_type '" + pe + "' is not supported (absolute)");
  return o;
}

BertEncoder::BertEncoder(const ModelConfig& config, BertOptions o) : Backbone(config), options_(std::move(o)) {
  const int64_t H = options_.hidden;
  word_ = register_module("word", torch::nn::Embedding(options_.vocab, H));
  position_ = register_module("position", torch::nn::Embedding(options_.max_positions, H));
  token_type_ = register_module("token_type", torch::nn::Embedding(options_.type_vocab, H));
  embed_norm_ = register_module(
      "embed_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({H}).eps(options_.eps)));
  expose("embeddings.word_embeddings.weight", word_->weight, "embedding,weight,enc");
  expose("embeddings.position_embeddings.weight", position_->weight, "embedding,weight,enc");
  expose("embeddings.token_type_embeddings.weight", token_type_->weight, "embedding,weight,enc");
  expose("embeddings.LayerNorm.weight", embed_norm_->weight, "norm,weight,enc");
  expose("embeddings.LayerNorm.bias", embed_norm_->bias, "norm,bias,enc");
  site_embed_ = surface_.sites.add({.name = "embed", .kind = PETLAB_SITE_EMBED, .in_features = H, .out_features = H});
  for (int i = 0; i < options_.layers; ++i) build_layer(i);
}

void BertEncoder::build_layer(int i) {
  const int64_t H = options_.hidden;
  const std::string site = "enc.L" + std::to_string(i) + ".";
  const std::string ckpt = "encoder.layer." + std::to_string(i) + ".";
  const std::string mod = "layer" + std::to_string(i) + "_";  // submodule names may not contain dots
  Layer l;
  auto make_linear = [&](const std::string& name, const std::string& ckpt_name, int64_t in, int64_t out,
                         const std::string& sub) {
    auto lin = register_module(mod + name, torch::nn::Linear(in, out));
    const std::string group = sub.substr(0, sub.find('.'));  // "attn" or "ffn"
    expose(ckpt + ckpt_name + ".weight", lin->weight, "weight,enc," + group + "," + sub, i);
    expose(ckpt + ckpt_name + ".bias", lin->bias, "bias,enc," + group + "," + sub, i);
    const SiteId id = surface_.sites.add({.name = site + sub, .kind = PETLAB_SITE_LINEAR, .stack = "enc", .layer = i,
                                          .in_features = in, .out_features = out,
                                          .weight = ckpt + ckpt_name + ".weight", .bias = ckpt + ckpt_name + ".bias"});
    return std::make_pair(lin, id);
  };
  auto block = [&](const std::string& sub, const std::string& norm_name) {
    return surface_.sites.add({.name = site + sub, .kind = PETLAB_SITE_BLOCK, .stack = "enc", .layer = i,
                               .in_features = H, .out_features = H, .norm_weight = ckpt + norm_name + ".weight",
                               .norm_bias = ckpt + norm_name + ".bias", .norm_position = "post", .norm_eps = options_.eps});
  };
  auto norm = [&](const std::string& name, const std::string& ckpt_name, const std::string& group) {
    auto ln = register_module(mod + name, torch::nn::LayerNorm(torch::nn::LayerNormOptions({H}).eps(options_.eps)));
    expose(ckpt + ckpt_name + ".weight", ln->weight, "norm,weight,enc," + group, i);
    expose(ckpt + ckpt_name + ".bias", ln->bias, "norm,bias,enc," + group, i);
    return ln;
  };

  std::tie(l.q, l.site_q) = make_linear("q", "attention.self.query", H, H, "attn.q");
  std::tie(l.k, l.site_k) = make_linear("k", "attention.self.key", H, H, "attn.k");
  std::tie(l.v, l.site_v) = make_linear("v", "attention.self.value", H, H, "attn.v");
  l.site_kv = surface_.sites.add({.name = site + "attn.kv", .kind = PETLAB_SITE_ATTENTION, .stack = "enc", .layer = i,
                                  .num_heads = options_.heads, .head_dim = H / options_.heads});
  std::tie(l.o, l.site_o) = make_linear("o", "attention.output.dense", H, H, "attn.o");
  l.site_attn_block = block("attn.block", "attention.output.LayerNorm");
  l.attn_norm = norm("attn_norm", "attention.output.LayerNorm", "attn");
  std::tie(l.in, l.site_in) = make_linear("in", "intermediate.dense", H, options_.intermediate, "ffn.in");
  l.site_act = surface_.sites.add({.name = site + "ffn.act", .kind = PETLAB_SITE_ACTIVATION, .stack = "enc",
                                   .layer = i, .in_features = options_.intermediate,
                                   .out_features = options_.intermediate});
  std::tie(l.out, l.site_out) = make_linear("out", "output.dense", options_.intermediate, H, "ffn.out");
  l.site_ffn_block = block("ffn.block", "output.LayerNorm");
  l.ffn_norm = norm("ffn_norm", "output.LayerNorm", "ffn");
  layers_.push_back(l);
}

void BertEncoder::load(const Checkpoint& checkpoint) {
  // BertFor*/RobertaFor* checkpoints nest the encoder under the model type; a bare BertModel does not.
  const std::string nested = config_.model_type + ".";
  const std::string prefix = checkpoint.contains(nested + "embeddings.word_embeddings.weight") ? nested : "";
  WeightBinder binder(checkpoint, prefix);
  for (auto& p : surface_.params.all()) binder.bind(p.name, p.tensor);
  // RoBERTa's task heads never use the pooler (HF's RobertaFor* drop it), so it is not loaded: an unused
  // parameter would only inflate counts and confuse "what trains".
  if (config_.model_type == "bert" && checkpoint.contains(prefix + "pooler.dense.weight")) {
    pooler_ = register_module("pooler", torch::nn::Linear(options_.hidden, options_.hidden));
    binder.bind("pooler.dense.weight", pooler_->weight);
    binder.bind("pooler.dense.bias", pooler_->bias);
    expose("pooler.dense.weight", pooler_->weight, "pooler,weight,enc");
    expose("pooler.dense.bias", pooler_->bias, "pooler,bias,enc");
    has_pooler_ = true;
  }
  // Buffers and pre-training or task heads that ship in checkpoints but are not part of the encoder.
  binder.ignore(".*embeddings\\.position_ids");
  binder.ignore("(cls|lm_head|classifier|qa_outputs)\\..*");
  if (config_.model_type != "bert") binder.ignore("pooler\\..*");
  binder.finish();
}

at::Tensor BertEncoder::linear(torch::nn::Linear layer, SiteId site, const at::Tensor& x, const TokenPacking& packing) {
  at::Tensor in = x;
  at::Tensor y = layer->forward(x);
  at::Tensor* slots[] = {&in, &y};
  packing.run_site(surface_.sites, site, slots, is_training());
  return y;
}

std::array<at::Tensor, 3> BertEncoder::project_qkv(Layer& l, const at::Tensor& x, const TokenPacking& packing) {
  const at::Tensor weight = l.qkv_weight.get({l.q->weight, l.k->weight, l.v->weight});
  const at::Tensor bias = l.qkv_bias.get({l.q->bias, l.k->bias, l.v->bias});
  const std::vector<at::Tensor> parts = at::linear(x, weight, bias).chunk(3, -1);
  const SiteId sites[] = {l.site_q, l.site_k, l.site_v};
  std::array<at::Tensor, 3> out;
  for (size_t i = 0; i < 3; ++i) {
    at::Tensor in = x;
    out[i] = parts[i];
    at::Tensor* slots[] = {&in, &out[i]};
    packing.run_site(surface_.sites, sites[i], slots, is_training());
  }
  return out;
}

at::Tensor BertEncoder::activation(const at::Tensor& x) const {
  if (options_.activation == "gelu") return at::gelu(x);
  if (options_.activation == "gelu_new") return at::gelu(x, "tanh");
  return at::relu(x);
}

at::Tensor BertEncoder::self_attention(Layer& l, const at::Tensor& x, const at::Tensor& bias_in,
                                       const TokenPacking& packing, const AttentionGroups* groups) {
  const int64_t heads = options_.heads, D = options_.hidden / heads;
  const double dropout = is_training() ? options_.attention_dropout : 0.0;
  const auto [q, k, v] = project_qkv(l, x, packing);
  if (groups != nullptr && !surface_.sites.has_hooks(l.site_kv)) {
    // Packed tokens, regrouped by length: attention computes few padded pairs.
    const auto qs = groups->split(q), ks = groups->split(k), vs = groups->split(v);
    std::vector<at::Tensor> contexts;
    for (size_t g = 0; g < qs.size(); ++g) {
      const AttentionGroups::Group& group = groups->groups()[g];
      auto split = [&](const at::Tensor& t) { return t.view({group.rows, group.width, heads, D}).transpose(1, 2); };
      const at::Tensor context = attention(split(qs[g]), split(ks[g]), split(vs[g]), group.bias.to(q.dtype()), dropout);
      contexts.push_back(context.transpose(1, 2).reshape({group.rows * group.width, options_.hidden}));
    }
    return linear(l.o, l.site_o, groups->merge(contexts), packing);
  }
  // The padded layout [B, heads, T, D], which attention-site hooks (prefixes) are promised.
  const int64_t B = bias_in.size(0), T = bias_in.size(3);
  auto split = [&](const at::Tensor& t) { return packing.unpack(t).view({B, T, heads, D}).transpose(1, 2); };
  at::Tensor qh = split(q), kh = split(k), vh = split(v);
  at::Tensor bias = bias_in;
  at::Tensor* kv_slots[] = {&kh, &vh, &bias};
  surface_.sites.run(l.site_kv, kv_slots, is_training());
  at::Tensor context = attention(qh, kh, vh, bias.to(q.dtype()), dropout);
  return linear(l.o, l.site_o, packing.pack(context.transpose(1, 2).reshape({B, T, options_.hidden})), packing);
}

void BertEncoder::run_block(SiteId site, const at::Tensor& x, at::Tensor& h, const TokenPacking& packing) {
  if (!surface_.sites.has_hooks(site)) return;
  // Block hooks get [B, T, H] as the ABI promises, even while the layer runs on packed tokens.
  at::Tensor padded_x = packing.unpack(x), padded_h = packing.unpack(h);
  at::Tensor* slots[] = {&padded_x, &padded_h};
  surface_.sites.run(site, slots, is_training());
  h = packing.pack(padded_h);
}

at::Tensor BertEncoder::position_ids(const at::Tensor& input_ids, int64_t length) const {
  if (!options_.roberta_positions) return at::arange(length, input_ids.options()).unsqueeze(0);
  if (input_ids.size(1) != length)  // soft tokens were prepended: number positions in order, as HF does for embeds
    return at::arange(options_.pad_id + 1, options_.pad_id + 1 + length, input_ids.options()).unsqueeze(0);
  const at::Tensor not_pad = input_ids.ne(options_.pad_id).to(at::kLong);
  return at::cumsum(not_pad, 1) * not_pad + options_.pad_id;
}

EncoderOutput BertEncoder::encode(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                  const at::Tensor& token_type_ids) {
  at::Tensor h = word_->forward(input_ids);
  // Hooks at `embed` (prompt tuning) extend the mask with what they prepend, so it must exist.
  at::Tensor mask = attention_mask.defined() ? attention_mask : at::ones_like(input_ids);
  at::Tensor* embed_slots[] = {&h, &mask};
  surface_.sites.run(site_embed_, embed_slots, is_training());
  const int64_t T = h.size(1), added = T - input_ids.size(1);

  at::Tensor types = token_type_ids.defined() ? token_type_ids : at::zeros_like(input_ids);
  if (added > 0) types = at::cat({at::zeros({types.size(0), added}, types.options()), types}, 1);
  h = h + position_->forward(position_ids(input_ids, T)) + token_type_->forward(types);
  // Fused multi-seed replicas own rows of the batch, so their hooks need the rows: no packing there.
  const TokenPacking packing(mask, /*enabled=*/surface_.sites.replica_count() == 1);
  std::optional<AttentionGroups> groups;
  if (packing.active()) groups.emplace(mask, options_.heads);
  const AttentionGroups* by_length = groups ? &*groups : nullptr;
  h = fast_dropout(embed_norm_->forward(packing.pack(h)), options_.hidden_dropout, is_training());

  // Additive bias [B,1,1,T]: 0 on tokens, the dtype's lowest value on padding (as HF does).
  const at::Tensor bias = (1.0 - mask.to(h.dtype())).mul(std::numeric_limits<float>::lowest()).view({mask.size(0), 1, 1, T});
  for (auto& l : layers_) {
    at::Tensor x = h;
    at::Tensor a = fast_dropout(self_attention(l, x, bias, packing, by_length), options_.hidden_dropout, is_training());
    run_block(l.site_attn_block, x, a, packing);
    h = l.attn_norm->forward(x + a);

    x = h;
    at::Tensor act = activation(linear(l.in, l.site_in, x, packing));
    at::Tensor* act_slots[] = {&act};
    packing.run_site(surface_.sites, l.site_act, act_slots, is_training());
    at::Tensor f = fast_dropout(linear(l.out, l.site_out, act, packing), options_.hidden_dropout, is_training());
    run_block(l.site_ffn_block, x, f, packing);
    h = l.ffn_norm->forward(x + f);
  }
  h = packing.unpack(h);  // zeros at padding
  return {h, mask};
}

at::Tensor BertEncoder::pool(const at::Tensor& hidden) {
  if (!has_pooler_) return {};
  return at::tanh(pooler_->forward(hidden.select(1, 0)));
}

std::shared_ptr<Backbone> make_bert(const ModelConfig& config, const Checkpoint& checkpoint) {
  auto model = std::make_shared<BertEncoder>(config, BertOptions::from_config(config));
  model->load(checkpoint);
  return model;
}

}  // namespace petlab
