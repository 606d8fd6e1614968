#include "backbone/config.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <fstream>

namespace petlab {

ModelConfig read_model_config(const std::filesystem::path& dir) {
  const auto file = dir / "config.json";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw Error(fmt::format("model folder '{}' does not exist", dir.string()));
  std::ifstream in(file);
  if (!in)
    throw Error(fmt::format("model folder '{}' has no config.json (a Hugging Face model folder holds config.json and "
                            "model.safetensors)",
                            dir.string()));
  ModelConfig c;
  c.dir = dir;
  c.raw = nlohmann::json::parse(in, nullptr, false);
  if (c.raw.is_discarded() || !c.raw.is_object()) throw Error(fmt::format("'{}' is not a JSON object", file.string()));
  if (!c.raw.contains("model_type") || !c.raw["model_type"].is_string())
    throw Error(fmt::format("'{}' has no model_type; supported: {}", file.string(), kSupportedModelTypes));
  c.model_type = c.raw["model_type"].get<std::string>();
  return c;
}

}  // namespace petlab
