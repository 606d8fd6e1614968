// PEFT's PREFIX_TUNING adapters <-> petlab's prefix method. PEFT saves the prefix folded (prompt_embeddings
// [length, num_layers*2*token_dim], even when trained through its MLP); row p holds, block after block of
// token_dim columns, the key and the value of every layer. Which attention reads which block:
//  - encoders (BERT, RoBERTa): layer i's self-attention reads blocks 2i (key) and 2i+1 (value);
//  - T5: only the decoder's self-attention has a prefix (HF's T5 encoder takes no cache, and PEFT empties the
//    cross-attention cache), and PEFT (num_transformer_submodules = 2) duplicates the blocks and regroups them
//    four by four, so decoder layer i reads blocks (4i mod 2L) and (4i+1 mod 2L) for L = num_layers. With L even
//    two layers share a prefix, so petlab writes L = D decoder layers when D is odd, D+1 otherwise (the unread
//    blocks are zero): then every decoder layer has its own blocks.
#include "artifacts/peft_format.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

namespace petlab {
namespace {

constexpr const char* kTensor = "prompt_embeddings";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_encoder_decoder(const ModelSurface& surface) {
  for (size_t i = 0; i < surface.sites.size(); ++i)
    if (surface.sites.at(static_cast<SiteId>(i)).stack == "dec") return true;
  return false;
}

/// The attention sites PEFT's prefix reaches, layer by layer: the encoder's self-attention, or T5's decoder's.
std::vector<const Site*> peft_sites(const ModelSurface& surface) {
  const std::string stack = is_encoder_decoder(surface) ? "dec" : "enc";
  std::vector<const Site*> out;
  for (size_t i = 0; i < surface.sites.size(); ++i) {
    const Site& s = surface.sites.at(static_cast<SiteId>(i));
    if (s.kind == PETLAB_SITE_ATTENTION && s.stack == stack && s.name == fmt::format("{}.L{}.attn.kv", stack, s.layer))
      out.push_back(&s);
  }
  if (out.empty()) throw Error("the model has no " + stack + " self-attention sites for PEFT's prefix tuning");
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i]->layer != static_cast<int>(i)) throw Error("attention sites are not numbered 0, 1, ... in order");
  return out;
}

/// Blocks (key, value) of `layer` in PEFT's prompt_embeddings (see the file comment).
std::pair<int64_t, int64_t> blocks(int64_t layer, int64_t num_layers, bool encoder_decoder) {
  if (!encoder_decoder) return {2 * layer, 2 * layer + 1};
  return {(4 * layer) % (2 * num_layers), (4 * layer + 1) % (2 * num_layers)};
}

int64_t config_int(const nlohmann::json& config, const char* key) {
  if (!config.contains(key) || !config.at(key).is_number_integer())
    throw Error(fmt::format("adapter_config.json: {} = {}; expected an integer", key,
                            config.contains(key) ? config.at(key).dump() : "(missing)"));
  return config.at(key).get<int64_t>();
}

PeftAdapter to_peft(const MethodState& state, const PeftModelInfo& model) {
  const std::vector<const Site*> sites = peft_sites(model.surface);
  const bool enc_dec = is_encoder_decoder(model.surface);
  std::set<std::string> have, want;
  for (const auto& [name, tensor] : state.tensors) {
    if (ends_with(name, ".key")) have.insert(name.substr(0, name.size() - 4));
    else if (!ends_with(name, ".value"))
      throw Error(fmt::format("prefix tensor '{}': PEFT stores the folded prefix only (fold before writing: "
                              "expected '<site>.key' and '<site>.value')", name));
  }
  for (const Site* s : sites) want.insert(s->name);
  if (have != want)
    throw Error(fmt::format("PEFT's prefix tuning on this model puts a prefix on exactly [{}]; this prefix has them "
                            "on [{}] (set targets to {} and layers to all)",
                            fmt::join(want, ", "), fmt::join(have, ", "),
                            enc_dec ? "[\"dec.L*.attn.kv\"]" : "[\"attn.kv\"]"));

  const int64_t heads = sites.front()->num_heads, width = heads * sites.front()->head_dim;
  const int64_t length = state.tensors.at(sites.front()->name + ".key").size(0);
  const int64_t D = static_cast<int64_t>(sites.size());
  const int64_t num_layers = enc_dec ? (D % 2 == 1 ? D : D + 1) : D;
  at::Tensor flat = at::zeros({length, num_layers * 2 * width});
  for (const Site* s : sites) {
    const auto [key_block, value_block] = blocks(s->layer, num_layers, enc_dec);
    for (const auto& [suffix, block] : {std::pair{".key", key_block}, std::pair{".value", value_block}}) {
      const auto it = state.tensors.find(s->name + suffix);
      if (it == state.tensors.end()) throw Error(fmt::format("prefix state lacks '{}{}'", s->name, suffix));
      if (it->second.dim() != 2 || it->second.size(0) != length || it->second.size(1) != width)
        throw Error(fmt::format("prefix tensor '{}{}' has shape [{}], expected [{}, {}]", s->name, suffix,
                                fmt::join(it->second.sizes(), ", "), length, width));
      flat.narrow(1, block * width, width).copy_(it->second.detach().to(at::kFloat));
    }
  }
  PeftAdapter adapter;
  adapter.tensors[kTensor] = flat;
  adapter.config = {{"peft_type", "PREFIX_TUNING"},
                    {"task_type", enc_dec ? "SEQ_2_SEQ_LM" : "FEATURE_EXTRACTION"},
                    {"num_virtual_tokens", length},
                    {"num_layers", num_layers},
                    {"token_dim", width},
                    {"num_attention_heads", heads},
                    {"num_transformer_submodules", enc_dec ? 2 : 1},
                    {"encoder_hidden_size", width},
                    {"prefix_projection", false},  // the folded form: PEFT loads it as its plain embedding
                    {"init_weights", nullptr},
                    {"modules_to_save", nullptr},
                    {"inference_mode", true}};
  return adapter;
}

MethodState from_peft(const PeftAdapter& adapter, const PeftModelInfo& model) {
  const nlohmann::json& config = adapter.config;
  const bool enc_dec = is_encoder_decoder(model.surface);
  const std::vector<const Site*> sites = peft_sites(model.surface);
  const int64_t length = config_int(config, "num_virtual_tokens"), num_layers = config_int(config, "num_layers");
  const int64_t token_dim = config_int(config, "token_dim"), heads = config_int(config, "num_attention_heads");
  const bool seq2seq = config.value("task_type", nlohmann::json()) == "SEQ_2_SEQ_LM";
  const int64_t submodules = config.contains("num_transformer_submodules") &&
                                     !config.at("num_transformer_submodules").is_null()
                                 ? config_int(config, "num_transformer_submodules")
                                 : (seq2seq ? 2 : 1);
  const int64_t D = static_cast<int64_t>(sites.size());
  if (length <= 0) throw Error(fmt::format("adapter_config.json: num_virtual_tokens = {}; expected > 0", length));
  for (const Site* s : sites)
    if (s->num_heads != heads || s->num_heads * s->head_dim != token_dim)
      throw Error(fmt::format("adapter_config.json: num_attention_heads = {}, token_dim = {}; site {} has {} heads of "
                              "width {}", heads, token_dim, s->name, s->num_heads, s->head_dim));
  if (enc_dec && submodules != 2)
    throw Error(fmt::format("adapter_config.json: num_transformer_submodules = {} on an encoder-decoder model; PEFT "
                            "runs T5 prefixes with 2 only (with 1 its cross-attention writes into the prefix cache)",
                            submodules));
  if (!enc_dec && submodules != 1)
    throw Error(fmt::format("adapter_config.json: num_transformer_submodules = {}; expected 1 on an encoder", submodules));
  if (enc_dec ? num_layers < D : num_layers != D)
    throw Error(fmt::format("adapter_config.json: num_layers = {}, but the model has {} {} layers{}", num_layers, D,
                            enc_dec ? "decoder" : "encoder",
                            enc_dec ? " (PEFT fails on the layers past num_layers)" : ""));
  for (const auto& [key, tensor] : adapter.tensors)
    if (key != kTensor)
      throw Error(fmt::format("adapter_model.safetensors: unexpected key '{}' (a prefix adapter holds only {})", key,
                              kTensor));
  const auto it = adapter.tensors.find(kTensor);
  if (it == adapter.tensors.end()) throw Error(fmt::format("adapter_model.safetensors: no '{}' tensor", kTensor));
  const at::Tensor& flat = it->second;
  if (flat.dim() != 2 || flat.size(0) != length || flat.size(1) != num_layers * 2 * token_dim)
    throw Error(fmt::format("adapter_model.safetensors: '{}' has shape [{}], expected [{}, {}] "
                            "(num_virtual_tokens, num_layers * 2 * token_dim)",
                            kTensor, fmt::join(flat.sizes(), ", "), length, num_layers * 2 * token_dim));

  MethodState state;
  state.method = "prefix";
  state.knobs = {{"length", length},
                 {"reparameterize", false},
                 {"targets", {enc_dec ? "dec.L*.attn.kv" : "attn.kv"}},
                 {"layers", "all"}};
  for (const Site* s : sites) {
    const auto [key_block, value_block] = blocks(s->layer, num_layers, enc_dec);
    state.tensors[s->name + ".key"] = flat.narrow(1, key_block * token_dim, token_dim).to(at::kFloat).contiguous();
    state.tensors[s->name + ".value"] = flat.narrow(1, value_block * token_dim, token_dim).to(at::kFloat).contiguous();
  }
  return state;
}

}  // namespace

const PeftConverter kPeftPrefix = {"PREFIX_TUNING", "prefix", &to_peft, &from_peft};

}  // namespace petlab
