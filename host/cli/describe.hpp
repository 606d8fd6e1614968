// Text and JSON descriptions of plugins and methods, shared by `methods` and `plugins check`.
#pragma once

#include "plugin/library.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace petlab::cli {

nlohmann::json method_json(const petlab_method_desc_t& desc, const PluginLibrary& library);
std::string method_text(const petlab_method_desc_t& desc, const PluginLibrary& library);

}  // namespace petlab::cli
