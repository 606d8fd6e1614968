// Interop with Hugging Face PEFT's adapter folders (adapter_config.json + adapter_model.safetensors): one
// converter per PEFT type translates between PEFT's keys and layout and a petlab method's own parameters, so a
// PEFT user can load what petlab trained and petlab can load what PEFT trained. Each converter lives in its own
// file (peft_lora.cpp, peft_ia3.cpp, peft_prefix.cpp, peft_prompt.cpp); the table in peft_format.cpp lists them.
#pragma once

#include "backbone/config.hpp"
#include "model/surface.hpp"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace petlab {

/// One method instance's saved state in petlab's terms: its knobs, and its tensors named as the method
/// registered them, without the "<instance>/" prefix ("enc.L0.attn.q.lora_A").
struct MethodState {
  std::string method;  ///< the method id, e.g. "lora"
  nlohmann::json knobs = nlohmann::json::object();
  std::map<std::string, at::Tensor> tensors;
};

/// What PEFT writes: the parsed adapter_config.json and the tensors of adapter_model.safetensors.
struct PeftAdapter {
  nlohmann::json config = nlohmann::json::object();
  std::map<std::string, at::Tensor> tensors;
};

/// What a converter may know of the model an adapter belongs to: its sites and config.json.
struct PeftModelInfo {
  const ModelSurface& surface;
  const ModelConfig& config;

  /// The HF module path of a LINEAR site's weight ("encoder.layer.0.attention.self.query"); throws
  /// petlab::Error for a site that is not a linear layer of the checkpoint.
  std::string module_path(const std::string& site) const;
  /// The linear site whose weight is `module_path`.weight, or nullptr.
  const Site* site_for_module(const std::string& module_path) const;
  /// The module path inside a PEFT key: strips "base_model.model.", a "<model_type>." nesting segment
  /// (BertFor*/RobertaFor* wrap the encoder) and `suffix` (".lora_A.weight"); nullopt when `key` lacks them.
  std::optional<std::string> module_of_key(const std::string& key, const std::string& suffix) const;
  /// The key PEFT writes for a bare model: "base_model.model." + module path + suffix.
  static std::string peft_key(const std::string& module_path, const std::string& suffix);
};

/// Translates one PEFT type. Both directions throw petlab::Error naming the key or knob that does not fit.
struct PeftConverter {
  const char* peft_type;  ///< adapter_config.json's "peft_type", e.g. "LORA"
  const char* method;     ///< the petlab method id, e.g. "lora"
  PeftAdapter (*to_peft)(const MethodState& state, const PeftModelInfo& model);
  MethodState (*from_peft)(const PeftAdapter& adapter, const PeftModelInfo& model);
};

/// The converters petlab ships, one per peft_<method>.cpp.
extern const PeftConverter kPeftLora, kPeftIa3, kPeftPrefix, kPeftPrompt;

/// The converter for a petlab method id or a PEFT type; nullptr when there is none.
const PeftConverter* peft_converter_for_method(const std::string& method);
const PeftConverter* peft_converter_for_type(const std::string& peft_type);
/// "LORA, IA3, ..." for messages.
std::string peft_types_supported();

/// Reads adapter_config.json and adapter_model.safetensors from `dir`; errors name the file.
PeftAdapter read_peft_adapter(const std::filesystem::path& dir);
/// Writes both files into `dir` (created when missing).
void write_peft_adapter(const std::filesystem::path& dir, const PeftAdapter& adapter);

}  // namespace petlab
