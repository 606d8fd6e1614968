#include "artifacts/peft_format.hpp"

#include "backbone/safetensors.hpp"
#include "core/error.hpp"

#include <fmt/format.h>

#include <fstream>
#include <vector>

namespace petlab {

namespace {

constexpr const char* kBaseModelPrefix = "base_model.model.";
constexpr const char* kConfigFile = "adapter_config.json";
constexpr const char* kWeightsFile = "adapter_model.safetensors";

// The converters petlab ships; each is defined in its own peft_<method>.cpp.
const std::vector<const PeftConverter*>& converters() {
  static const std::vector<const PeftConverter*> table = {
      &kPeftLora,
      &kPeftIa3,
      &kPeftPrefix,
      &kPeftPrompt,
  };
  return table;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string PeftModelInfo::module_path(const std::string& site) const {
  const auto id = surface.sites.find(site);
  if (!id) throw Error("no site named '" + site + "'");
  const Site& s = surface.sites.at(*id);
  if (s.kind != PETLAB_SITE_LINEAR || !ends_with(s.weight, ".weight"))
    throw Error("site '" + site + "' is not a linear layer of the checkpoint, so PEFT has no module for it");
  return s.weight.substr(0, s.weight.size() - std::string(".weight").size());
}

const Site* PeftModelInfo::site_for_module(const std::string& module_path) const {
  const std::string weight = module_path + ".weight";
  for (size_t i = 0; i < surface.sites.size(); ++i) {
    const Site& s = surface.sites.at(static_cast<SiteId>(i));
    if (s.kind == PETLAB_SITE_LINEAR && s.weight == weight) return &s;
  }
  return nullptr;
}

std::optional<std::string> PeftModelInfo::module_of_key(const std::string& key, const std::string& suffix) const {
  std::string rest = key;
  if (rest.rfind(kBaseModelPrefix, 0) != 0 || !ends_with(rest, suffix)) return std::nullopt;
  rest = rest.substr(std::string(kBaseModelPrefix).size(), rest.size() - std::string(kBaseModelPrefix).size() - suffix.size());
  const std::string nesting = config.model_type + ".";
  if (rest.rfind(nesting, 0) == 0) rest = rest.substr(nesting.size());
  return rest;
}

std::string PeftModelInfo::peft_key(const std::string& module_path, const std::string& suffix) {
  return kBaseModelPrefix + module_path + suffix;
}

const PeftConverter* peft_converter_for_method(const std::string& method) {
  for (const PeftConverter* c : converters())
    if (method == c->method) return c;
  return nullptr;
}

const PeftConverter* peft_converter_for_type(const std::string& peft_type) {
  for (const PeftConverter* c : converters())
    if (peft_type == c->peft_type) return c;
  return nullptr;
}

std::string peft_types_supported() {
  std::string out;
  for (const PeftConverter* c : converters()) out += (out.empty() ? "" : ", ") + std::string(c->peft_type);
  return out.empty() ? "(none)" : out;
}

PeftAdapter read_peft_adapter(const std::filesystem::path& dir) {
  const auto config_path = dir / kConfigFile;
  std::ifstream in(config_path);
  if (!in) throw Error(fmt::format("{}: cannot open (not a PEFT adapter folder?)", config_path.string()));
  PeftAdapter adapter;
  adapter.config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!adapter.config.is_object())
    throw Error(fmt::format("{}: not a JSON object", config_path.string()));
  const auto weights_path = dir / kWeightsFile;
  if (!std::filesystem::exists(weights_path)) {
    const bool bin = std::filesystem::exists(dir / "adapter_model.bin");
    throw Error(fmt::format("{}: missing{}", weights_path.string(),
                            bin ? " (only adapter_model.bin is there: re-save it with safe_serialization=True)" : ""));
  }
  const SafetensorsFile file(weights_path);
  for (const auto& name : file.names()) adapter.tensors[name] = file.get(name);
  return adapter;
}

void write_peft_adapter(const std::filesystem::path& dir, const PeftAdapter& adapter) {
  std::filesystem::create_directories(dir);
  write_safetensors(dir / kWeightsFile, adapter.tensors, {{"format", "pt"}});
  const auto config_path = dir / kConfigFile;
  const auto tmp = config_path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << adapter.config.dump(2) << "\n";
    if (!out) throw Error(fmt::format("{}: cannot write", tmp));
  }
  std::filesystem::rename(tmp, config_path);
}

}  // namespace petlab
