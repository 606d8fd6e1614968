// PEFT's IA3 adapters <-> petlab's ia3 method. PEFT stores "base_model.model.<module>.ia3_l": [out, 1] scales a
// linear module's output (petlab: "<site>.ia3" on that linear site), [1, in] scales the input of a feedforward
// module (feedforward_modules), which petlab expresses on the activation site feeding the FFN output projection:
// "<stack>.L<i>.ffn.act.ia3" <-> the ia3_l of the module of "<stack>.L<i>.ffn.out". PEFT's default IA3 targets for
// BERT match "output.dense" as a suffix, which also hits attention.output.dense; written configs therefore list
// full module paths.
#include "artifacts/peft_format.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

namespace petlab {

// Defined in peft_lora.cpp: site targets that select exactly `sites` ("attn.k" where every layer is chosen).
std::vector<std::string> compact_site_targets(const ModelSurface& surface, const std::vector<std::string>& sites);

namespace {

constexpr const char* kSuffix = ".ia3";
constexpr const char* kAct = "ffn.act";
constexpr const char* kOut = "ffn.out";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string replace_tail(const std::string& s, const std::string& tail, const std::string& with) {
  return s.substr(0, s.size() - tail.size()) + with;
}

const Site* find_site(const ModelSurface& surface, const std::string& name) {
  const auto id = surface.sites.find(name);
  return id ? &surface.sites.at(*id) : nullptr;
}

PeftAdapter to_peft(const MethodState& state, const PeftModelInfo& model) {
  PeftAdapter adapter;
  std::set<std::string> targets, feedforward;
  for (const auto& [name, tensor] : state.tensors) {
    if (!ends_with(name, kSuffix)) throw Error(fmt::format("ia3 tensor '{}': expected '<site>.ia3'", name));
    const std::string site = name.substr(0, name.size() - std::string(kSuffix).size());
    const Site* s = find_site(model.surface, site);
    if (s == nullptr) throw Error(fmt::format("ia3 tensor '{}': the model has no site '{}'", name, site));
    const at::Tensor v = tensor.detach().to(at::kFloat).contiguous();
    if (s->kind == PETLAB_SITE_LINEAR) {
      const std::string module = model.module_path(site);
      adapter.tensors[PeftModelInfo::peft_key(module, ".ia3_l")] = v.reshape({-1, 1});
      targets.insert(module);
    } else if (s->kind == PETLAB_SITE_ACTIVATION && ends_with(site, kAct)) {
      const std::string module = model.module_path(replace_tail(site, kAct, kOut));
      adapter.tensors[PeftModelInfo::peft_key(module, ".ia3_l")] = v.reshape({1, -1});
      targets.insert(module);
      feedforward.insert(module);
    } else {
      throw Error(fmt::format("ia3 tensor '{}': PEFT's IA3 has no form for site '{}' (linear sites and ffn.act only)",
                              name, site));
    }
  }
  if (targets.empty()) throw Error("ia3 state has no tensors: nothing to write for PEFT");
  adapter.config = {{"peft_type", "IA3"},
                    {"task_type", nullptr},
                    // Full module paths: PEFT matches targets exactly or after a '.', feedforward modules as suffixes.
                    {"target_modules", std::vector<std::string>(targets.begin(), targets.end())},
                    {"feedforward_modules", std::vector<std::string>(feedforward.begin(), feedforward.end())},
                    {"init_ia3_weights", true},
                    {"fan_in_fan_out", false},
                    {"modules_to_save", nullptr},
                    {"inference_mode", true}};
  return adapter;
}

MethodState from_peft(const PeftAdapter& adapter, const PeftModelInfo& model) {
  const nlohmann::json& config = adapter.config;
  for (const char* key : {"fan_in_fan_out", "modules_to_save", "target_parameters"})
    if (config.contains(key) && !config.at(key).is_null() && config.at(key) != false &&
        !(config.at(key).is_array() && config.at(key).empty()))
      throw Error(fmt::format("adapter_config.json: {} = {} is not supported by petlab's ia3", key,
                              config.at(key).dump()));
  MethodState state;
  state.method = "ia3";
  std::vector<std::string> sites;
  for (const auto& [key, tensor] : adapter.tensors) {
    const auto module = model.module_of_key(key, ".ia3_l");
    if (!module)
      throw Error(fmt::format("adapter_model.safetensors: key '{}' is not an IA3 vector "
                              "(expected base_model.model.<module>.ia3_l)", key));
    const Site* linear = model.site_for_module(*module);
    if (linear == nullptr)
      throw Error(fmt::format("adapter_model.safetensors: key '{}' scales module '{}', which is not a linear site of "
                              "this model", key, *module));
    if (tensor.dim() != 2)
      throw Error(fmt::format("adapter_model.safetensors: key '{}' has {} dimensions, expected 2", key, tensor.dim()));
    // PEFT's layout tells the two forms apart: [out, 1] scales the output, [1, in] the input (feedforward).
    const bool scales_input = tensor.size(0) == 1 && tensor.size(1) == linear->in_features && tensor.size(1) != 1;
    const Site* site = linear;
    if (scales_input) {
      const Site* act = ends_with(linear->name, kOut) ? find_site(model.surface, replace_tail(linear->name, kOut, kAct))
                                                      : nullptr;
      if (act == nullptr || act->out_features != linear->in_features)
        throw Error(fmt::format("adapter_model.safetensors: key '{}' scales the input of module '{}' (site '{}'); "
                                "petlab's ia3 scales inputs only of the FFN output projection, through ffn.act",
                                key, *module, linear->name));
      site = act;
    } else if (tensor.size(1) != 1 || tensor.size(0) != linear->out_features) {
      throw Error(fmt::format("adapter_model.safetensors: key '{}' has shape [{}], expected [{}, 1] (output scale) "
                              "or [1, {}] (input scale) for site '{}'",
                              key, fmt::join(tensor.sizes(), ", "), linear->out_features, linear->in_features,
                              linear->name));
    }
    state.tensors[site->name + kSuffix] = tensor.to(at::kFloat).reshape({-1}).contiguous();
    sites.push_back(site->name);
  }
  if (sites.empty()) throw Error("adapter_model.safetensors: no ia3_l vectors");
  state.knobs = {{"targets", compact_site_targets(model.surface, sites)}, {"layers", "all"}};
  return state;
}

}  // namespace

const PeftConverter kPeftIa3 = {"IA3", "ia3", &to_peft, &from_peft};

}  // namespace petlab
