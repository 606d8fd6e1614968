// PEFT's PROMPT_TUNING adapters <-> petlab's prompt method. PEFT saves prompt_embeddings
// [num_virtual_tokens * num_transformer_submodules, token_dim]; its prompt tuning prepends the first
// num_virtual_tokens rows to the (encoder) input and never reads the rest, which exist only because a
// seq2seq config defaults to two submodules. petlab's "embedding" [length, hidden] is those first rows; written
// adapters say num_transformer_submodules = 1, so PEFT allocates exactly what it uses.
#include "artifacts/peft_format.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace petlab {
namespace {

constexpr const char* kTensor = "prompt_embeddings";

struct ModelShape {
  bool encoder_decoder = false;
  int64_t hidden = 0, layers = 0, heads = 0;
};

ModelShape shape_of(const ModelSurface& surface) {
  ModelShape shape;
  for (size_t i = 0; i < surface.sites.size(); ++i) {
    const Site& s = surface.sites.at(static_cast<SiteId>(i));
    if (s.kind == PETLAB_SITE_EMBED) shape.hidden = s.out_features;
    if (s.stack == "dec") shape.encoder_decoder = true;
    if (s.kind == PETLAB_SITE_ATTENTION && s.stack == "enc") {
      shape.layers = std::max<int64_t>(shape.layers, s.layer + 1);
      shape.heads = s.num_heads;
    }
  }
  if (shape.hidden == 0) throw Error("the model has no `embed` site: prompt tuning has nothing to prepend to");
  return shape;
}

int64_t config_int(const nlohmann::json& config, const char* key) {
  if (!config.contains(key) || !config.at(key).is_number_integer())
    throw Error(fmt::format("adapter_config.json: {} = {}; expected an integer", key,
                            config.contains(key) ? config.at(key).dump() : "(missing)"));
  return config.at(key).get<int64_t>();
}

PeftAdapter to_peft(const MethodState& state, const PeftModelInfo& model) {
  const ModelShape shape = shape_of(model.surface);
  for (const auto& [name, tensor] : state.tensors)
    if (name != "embedding") throw Error(fmt::format("prompt tensor '{}': expected only 'embedding'", name));
  const auto it = state.tensors.find("embedding");
  if (it == state.tensors.end()) throw Error("prompt state has no 'embedding' tensor: nothing to write for PEFT");
  const at::Tensor& embedding = it->second;
  if (embedding.dim() != 2 || embedding.size(1) != shape.hidden)
    throw Error(fmt::format("prompt tensor 'embedding' has shape [{}], expected [length, {}]",
                            fmt::join(embedding.sizes(), ", "), shape.hidden));
  PeftAdapter adapter;
  adapter.tensors[kTensor] = embedding.detach().to(at::kFloat).contiguous();
  adapter.config = {{"peft_type", "PROMPT_TUNING"},
                    {"task_type", shape.encoder_decoder ? "SEQ_2_SEQ_LM" : "FEATURE_EXTRACTION"},
                    {"num_virtual_tokens", embedding.size(0)},
                    {"token_dim", shape.hidden},
                    {"num_transformer_submodules", 1},
                    {"num_layers", shape.layers},
                    {"num_attention_heads", shape.heads},
                    {"prompt_tuning_init", "RANDOM"},  // the values are in the file; init no longer matters
                    {"prompt_tuning_init_text", nullptr},
                    {"tokenizer_name_or_path", nullptr},
                    {"tokenizer_kwargs", nullptr},
                    {"modules_to_save", nullptr},
                    {"inference_mode", true}};
  return adapter;
}

MethodState from_peft(const PeftAdapter& adapter, const PeftModelInfo& model) {
  const ModelShape shape = shape_of(model.surface);
  const nlohmann::json& config = adapter.config;
  const int64_t length = config_int(config, "num_virtual_tokens"), token_dim = config_int(config, "token_dim");
  const bool seq2seq = config.value("task_type", nlohmann::json()) == "SEQ_2_SEQ_LM";
  const int64_t submodules = config.contains("num_transformer_submodules") &&
                                     !config.at("num_transformer_submodules").is_null()
                                 ? config_int(config, "num_transformer_submodules")
                                 : (seq2seq ? 2 : 1);
  if (length <= 0) throw Error(fmt::format("adapter_config.json: num_virtual_tokens = {}; expected > 0", length));
  if (token_dim != shape.hidden)
    throw Error(fmt::format("adapter_config.json: token_dim = {}, but the model's hidden size is {}", token_dim,
                            shape.hidden));
  if (submodules != 1 && submodules != 2)
    throw Error(fmt::format("adapter_config.json: num_transformer_submodules = {}; expected 1 or 2", submodules));
  for (const auto& [key, tensor] : adapter.tensors)
    if (key != kTensor)
      throw Error(fmt::format("adapter_model.safetensors: unexpected key '{}' (a prompt adapter holds only {})", key,
                              kTensor));
  const auto it = adapter.tensors.find(kTensor);
  if (it == adapter.tensors.end()) throw Error(fmt::format("adapter_model.safetensors: no '{}' tensor", kTensor));
  const at::Tensor& rows = it->second;
  if (rows.dim() != 2 || rows.size(0) != length * submodules || rows.size(1) != token_dim)
    throw Error(fmt::format("adapter_model.safetensors: '{}' has shape [{}], expected [{}, {}] "
                            "(num_virtual_tokens * num_transformer_submodules, token_dim)",
                            kTensor, fmt::join(rows.sizes(), ", "), length * submodules, token_dim));
  MethodState state;
  state.method = "prompt";
  state.knobs = {{"length", length}};
  state.tensors["embedding"] = rows.narrow(0, 0, length).to(at::kFloat).contiguous();
  return state;
}

}  // namespace

const PeftConverter kPeftPrompt = {"PROMPT_TUNING", "prompt", &to_peft, &from_peft};

}  // namespace petlab
