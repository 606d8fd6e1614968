#include "cli/describe.hpp"

#include <petlab/sdk.hpp>

#include <fmt/format.h>

namespace petlab::cli {

nlohmann::json method_json(const petlab_method_desc_t& desc, const PluginLibrary& library) {
  nlohmann::json knobs = nlohmann::json::array();
  for (uint32_t i = 0; i < desc.knob_count; ++i) {
    const auto& k = desc.knobs[i];
    auto def = nlohmann::json::parse(k.default_json, nullptr, /*allow_exceptions=*/false);
    knobs.push_back({{"name", k.name},
                     {"type", sdk::knob_type_name(k.type)},
                     {"default", def.is_discarded() ? nlohmann::json(k.default_json) : def},
                     {"help", k.help != nullptr ? k.help : ""}});
  }
  return {{"id", desc.id},
          {"version", desc.version != nullptr ? desc.version : ""},
          {"summary", desc.summary != nullptr ? desc.summary : ""},
          {"mergeable", desc.merge != nullptr && desc.unmerge != nullptr},
          {"knobs", knobs},
          {"file", library.file().string()},
          {"plugin", {{"name", library.entry().plugin_name != nullptr ? library.entry().plugin_name : ""},
                      {"version", library.entry().plugin_version != nullptr ? library.entry().plugin_version : ""}}}};
}

std::string method_text(const petlab_method_desc_t& desc, const PluginLibrary& library) {
  std::string out = fmt::format("{} {}  {}\n  from {}\n", desc.id, desc.version != nullptr ? desc.version : "",
                                desc.summary != nullptr ? desc.summary : "", library.file().string());
  for (uint32_t i = 0; i < desc.knob_count; ++i) {
    const auto& k = desc.knobs[i];
    out += fmt::format("  {:<20} {:<12} = {:<24} {}\n", k.name, sdk::knob_type_name(k.type), k.default_json,
                       k.help != nullptr ? k.help : "");
  }
  return out;
}

}  // namespace petlab::cli
