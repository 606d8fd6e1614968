// PEFT's LORA adapters <-> petlab's lora method. PEFT keys "base_model.model.<module>.lora_A.weight" [r, in] and
// ".lora_B.weight" [out, r] are petlab's "<site>.lora_A" / "<site>.lora_B" of the linear site whose weight is
// "<module>.weight". The adapted sites come from the tensors, not from target_modules (a Python regex or suffix
// list that petlab would have to re-implement): the tensors are what PEFT actually adapted.
#include "artifacts/peft_format.hpp"

#include "core/error.hpp"

#include <petlab/sdk.hpp>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <set>

namespace petlab {

// Shared with peft_ia3.cpp (declared there); a candidate for peft_format.hpp.
std::vector<std::string> compact_site_targets(const ModelSurface& surface, const std::vector<std::string>& sites) {
  const std::set<std::string> chosen(sites.begin(), sites.end());
  std::vector<std::string> out;
  std::set<std::string> emitted;
  auto emit = [&](const std::string& target) {
    if (emitted.insert(target).second) out.push_back(target);
  };
  for (size_t id = 0; id < surface.sites.size(); ++id) {  // in model order, whatever order `sites` has
    const std::string& name = surface.sites.at(static_cast<SiteId>(id)).name;
    if (chosen.count(name) == 0) continue;
    // "enc.L3.attn.q" -> "attn.q"; a site outside the layers keeps its name.
    const auto first = name.find('.'), second = first == std::string::npos ? first : name.find('.', first + 1);
    const bool layered = second != std::string::npos && name.compare(first + 1, 1, "L") == 0;
    const std::string sub = layered ? name.substr(second + 1) : name;
    bool every = layered;
    for (size_t i = 0; every && i < surface.sites.size(); ++i) {
      const std::string& other = surface.sites.at(static_cast<SiteId>(i)).name;
      if (sdk::site_matches(sub, other) && chosen.count(other) == 0) every = false;
    }
    emit(every ? sub : name);
  }
  return out;
}

namespace {

constexpr const char* kA = ".lora_A";
constexpr const char* kB = ".lora_B";

// The lora plugin's defaults (plugins/lora/lora.cpp), for knobs a run left out.
constexpr int64_t kDefaultR = 8;
constexpr double kDefaultAlpha = 8.0;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A number as JSON: integers stay integers (PEFT's lora_alpha is an int in most configs).
nlohmann::json number(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return static_cast<int64_t>(v);
  return v;
}

PeftAdapter to_peft(const MethodState& state, const PeftModelInfo& model) {
  PeftAdapter adapter;
  std::set<std::string> modules;
  int64_t rank = -1;
  for (const auto& [name, tensor] : state.tensors) {
    const bool is_a = ends_with(name, kA), is_b = ends_with(name, kB);
    if (!is_a && !is_b)
      throw Error(fmt::format("lora tensor '{}': expected '<site>.lora_A' or '<site>.lora_B'", name));
    const std::string site = name.substr(0, name.size() - std::string(kA).size());
    const std::string module = model.module_path(site);
    if (is_a) {
      if (rank >= 0 && tensor.size(0) != rank)
        throw Error(fmt::format("lora tensor '{}' has rank {}, others {}: PEFT needs one rank", name, tensor.size(0), rank));
      rank = tensor.size(0);
    }
    adapter.tensors[PeftModelInfo::peft_key(module, is_a ? ".lora_A.weight" : ".lora_B.weight")] =
        tensor.detach().to(at::kFloat).contiguous();
    modules.insert(module);
  }
  if (modules.empty()) throw Error("lora state has no tensors: nothing to write for PEFT");
  const nlohmann::json& k = state.knobs;
  const int64_t r = k.value("r", kDefaultR);
  if (r != rank) throw Error(fmt::format("lora knob r = {} but the tensors have rank {}", r, rank));
  adapter.config = {{"peft_type", "LORA"},
                    {"task_type", nullptr},
                    {"r", r},
                    {"lora_alpha", number(k.value("alpha", kDefaultAlpha))},
                    {"lora_dropout", k.value("dropout", 0.0)},
                    {"use_rslora", k.value("rslora", false)},
                    {"init_lora_weights", k.value("init_a", std::string("kaiming")) == "gaussian"
                                              ? nlohmann::json("gaussian") : nlohmann::json(true)},
                    // Full module paths: PEFT matches each exactly, or as a suffix after a '.' (wrapped models).
                    {"target_modules", std::vector<std::string>(modules.begin(), modules.end())},
                    {"bias", "none"},
                    {"fan_in_fan_out", false},
                    {"use_dora", false},
                    {"modules_to_save", nullptr},
                    {"rank_pattern", nlohmann::json::object()},
                    {"alpha_pattern", nlohmann::json::object()},
                    {"inference_mode", true}};
  return adapter;
}

/// Refuses PEFT options whose effect the lora method cannot reproduce, naming the option.
void check_supported(const nlohmann::json& config) {
  auto is_set = [&](const char* key) {
    if (!config.contains(key)) return false;
    const auto& v = config.at(key);
    return !(v.is_null() || (v.is_boolean() && !v.get<bool>()) || (v.is_object() && v.empty()) ||
             (v.is_array() && v.empty()));
  };
  for (const char* key : {"use_dora", "fan_in_fan_out", "rank_pattern", "alpha_pattern", "layer_replication",
                          "lora_bias", "modules_to_save", "target_parameters", "trainable_token_indices",
                          "alora_invocation_tokens", "use_qalora"})
    if (is_set(key))
      throw Error(fmt::format("adapter_config.json: {} = {} is not supported by petlab's lora (plain LoRA on linear "
                              "layers, one rank and alpha for all)", key, config.at(key).dump()));
  const std::string bias = config.value("bias", std::string("none"));
  if (bias != "none")
    throw Error(fmt::format("adapter_config.json: bias = \"{}\" is not supported by petlab's lora (expected \"none\"; "
                            "train biases with bitfit alongside)", bias));
}

MethodState from_peft(const PeftAdapter& adapter, const PeftModelInfo& model) {
  const nlohmann::json& config = adapter.config;
  check_supported(config);
  if (!config.contains("r") || !config.at("r").is_number_integer())
    throw Error("adapter_config.json: r (the LoRA rank) is missing or not an integer");
  const int64_t r = config.at("r").get<int64_t>();
  const nlohmann::json alpha = config.value("lora_alpha", nlohmann::json(r));
  if (!alpha.is_number()) throw Error("adapter_config.json: lora_alpha is not a number");

  MethodState state;
  state.method = "lora";
  std::vector<std::string> sites;
  for (const auto& [key, tensor] : adapter.tensors) {
    std::optional<std::string> module = model.module_of_key(key, ".lora_A.weight");
    const bool is_a = module.has_value();
    if (!is_a) module = model.module_of_key(key, ".lora_B.weight");
    if (!module)
      throw Error(fmt::format("adapter_model.safetensors: key '{}' is not a LoRA weight "
                              "(expected base_model.model.<module>.lora_A.weight or .lora_B.weight)", key));
    const Site* site = model.site_for_module(*module);
    if (site == nullptr)
      throw Error(fmt::format("adapter_model.safetensors: key '{}' adapts module '{}', which is not a linear site of "
                              "this model", key, *module));
    const std::vector<int64_t> expected = is_a ? std::vector<int64_t>{r, site->in_features}
                                               : std::vector<int64_t>{site->out_features, r};
    if (tensor.sizes().vec() != expected)
      throw Error(fmt::format("adapter_model.safetensors: key '{}' has shape [{}], expected [{}] (r = {}, site '{}')",
                              key, fmt::join(tensor.sizes(), ", "), fmt::join(expected, ", "), r, site->name));
    state.tensors[site->name + (is_a ? kA : kB)] = tensor.to(at::kFloat).contiguous();
    if (is_a) sites.push_back(site->name);
  }
  for (const auto& site : sites)
    if (state.tensors.count(site + kB) == 0)
      throw Error(fmt::format("adapter_model.safetensors: site '{}' has lora_A but no lora_B", site));
  if (sites.empty()) throw Error("adapter_model.safetensors: no lora_A weights");
  if (state.tensors.size() != 2 * sites.size())
    throw Error("adapter_model.safetensors: some lora_B weights have no lora_A");

  state.knobs = {{"r", r},
                 {"alpha", alpha},
                 {"dropout", config.value("lora_dropout", 0.0)},
                 {"rslora", config.value("use_rslora", false)},
                 {"targets", compact_site_targets(model.surface, sites)},
                 {"layers", "all"}};
  const nlohmann::json init = config.value("init_lora_weights", nlohmann::json(true));
  if (init.is_string() && init.get<std::string>() == "gaussian") state.knobs["init_a"] = "gaussian";
  return state;
}

}  // namespace

const PeftConverter kPeftLora = {"LORA", "lora", &to_peft, &from_peft};

}  // namespace petlab
