// config.json of a Hugging Face model folder, read into the fields petlab's architectures use.
#pragma once

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace petlab {

struct ModelConfig {
  std::filesystem::path dir;
  std::string model_type;  ///< "bert", "roberta", "t5" (as in config.json)
  nlohmann::json raw;      ///< everything config.json says, for architecture-specific fields

  /// Reads a required field; a missing or mistyped one names config.json, the key and the expected type.
  template <class T>
  T get(const std::string& key) const;
  /// Reads an optional field with a default.
  template <class T>
  T get(const std::string& key, const T& fallback) const;
};

/// Supported model_type values, for error messages and `petlab forward --help`.
inline constexpr const char* kSupportedModelTypes = "bert, roberta, t5 (including FLAN-T5 / T5 v1.1)";

/// Reads `dir`/config.json; throws petlab::Error when it is missing, not JSON, or lacks model_type.
ModelConfig read_model_config(const std::filesystem::path& dir);

template <class T>
T ModelConfig::get(const std::string& key) const {
  if (!raw.contains(key)) throw Error((dir / "config.json").string() + ": missing key '" + key + "'");
  try {
    return raw.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error((dir / "config.json").string() + ": key '" + key + "' has the wrong type (" +
                             raw.at(key).dump() + ")");
  }
}

template <class T>
T ModelConfig::get(const std::string& key, const T& fallback) const {
  if (!raw.contains(key) || raw.at(key).is_null()) return fallback;
  return get<T>(key);
}

}  // namespace petlab
