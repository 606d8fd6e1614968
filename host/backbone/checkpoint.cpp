#include "backbone/checkpoint.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

namespace petlab {

Checkpoint::Checkpoint(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto single = dir / "model.safetensors";
  const auto index = dir / "model.safetensors.index.json";
  std::vector<std::filesystem::path> shards;
  if (std::filesystem::exists(single, ec)) {
    shards.push_back(single);
  } else if (std::filesystem::exists(index, ec)) {
    std::ifstream in(index);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw Error(fmt::format("'{}' has no weight_map object", index.string()));
    std::set<std::string> files;
    for (const auto& [name, file] : j["weight_map"].items()) files.insert(file.get<std::string>());
    for (const auto& f : files) shards.push_back(dir / f);
  } else if (std::filesystem::exists(dir / "pytorch_model.bin", ec)) {
    throw Error(fmt::format(
        "model folder '{}' has only pytorch_model.bin; petlab reads safetensors. Convert it once with:\n"
        "  python -c \"from transformers import AutoModel; AutoModel.from_pretrained('{}').save_pretrained('{}', "
        "safe_serialization=True)\"",
        dir.string(), dir.string(), dir.string()));
  } else {
    throw Error(fmt::format("model folder '{}' has no model.safetensors or model.safetensors.index.json", dir.string()));
  }
  for (const auto& f : shards) {
    files_.push_back(std::make_unique<SafetensorsFile>(f));
    for (const auto& name : files_.back()->names()) {
      if (where_.count(name) != 0)
        throw Error(fmt::format("tensor '{}' appears in both '{}' and '{}'", name, where_[name]->path().string(),
                                f.string()));
      where_[name] = files_.back().get();
    }
  }
}

at::Tensor Checkpoint::read(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error(fmt::format("checkpoint has no tensor '{}'", name));
  return it->second->get(name);
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, file] : where_) out.push_back(name);
  return out;
}

std::string Checkpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  return it == where_.end() ? "" : it->second->path().filename().string();
}

WeightBinder::WeightBinder(const Checkpoint& checkpoint, std::string prefix)
    : checkpoint_(checkpoint), prefix_(std::move(prefix)) {
  for (const auto& n : checkpoint_.names()) used_[n] = false;
}

bool WeightBinder::bind_optional(const std::string& name, at::Tensor target) {
  const std::string full = prefix_ + name;
  if (!checkpoint_.contains(full)) return false;
  bind(name, std::move(target));
  return true;
}

void WeightBinder::bind(const std::string& name, at::Tensor target) {
  const std::string full = prefix_ + name;
  if (!checkpoint_.contains(full)) {
    problems_.push_back(fmt::format("missing tensor '{}' (expected shape {})", full,
                                    nlohmann::json(target.sizes().vec()).dump()));
    return;
  }
  used_[full] = true;
  const at::Tensor source = checkpoint_.read(full);
  if (source.sizes() != target.sizes()) {
    problems_.push_back(fmt::format("tensor '{}' in {} has shape {}, the config implies {}", full,
                                    checkpoint_.file_of(full), nlohmann::json(source.sizes().vec()).dump(),
                                    nlohmann::json(target.sizes().vec()).dump()));
    return;
  }
  if (source.is_floating_point() != target.is_floating_point()) {
    problems_.push_back(fmt::format("tensor '{}' has dtype {}, expected a {} tensor", full,
                                    c10::toString(source.scalar_type()),
                                    target.is_floating_point() ? "floating-point" : "integer"));
    return;
  }
  at::NoGradGuard no_grad;
  target.copy_(source);
}

void WeightBinder::ignore(const std::string& pattern) { ignored_.emplace_back(pattern); }

void WeightBinder::finish() const {
  std::vector<std::string> problems = problems_;
  for (const auto& [name, used] : used_) {
    if (used) continue;
    bool known = false;
    for (const auto& re : ignored_) known = known || std::regex_match(name, re);
    if (!known) problems.push_back(fmt::format("unexpected tensor '{}' (not part of this architecture)", name));
  }
  if (problems.empty()) return;
  std::string msg = fmt::format("checkpoint does not match the model ({} problem{}):", problems.size(),
                                problems.size() == 1 ? "" : "s");
  for (size_t i = 0; i < problems.size() && i < 20; ++i) msg += "\n  " + problems[i];
  if (problems.size() > 20) msg += fmt::format("\n  ... and {} more", problems.size() - 20);
  throw Error(msg);
}

}  // namespace petlab
