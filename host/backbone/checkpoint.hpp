// The weights of a Hugging Face model folder (model.safetensors or a sharded index), and the binder that
// copies them into a module by name, refusing anything missing, unexpected or mis-shaped.
#pragma once

#include "backbone/safetensors.hpp"

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace petlab {

class Checkpoint {
 public:
  /// Opens model.safetensors, or every shard listed by model.safetensors.index.json. A folder with only
  /// pytorch_model.bin is refused with the command that converts it.
  explicit Checkpoint(const std::filesystem::path& dir);

  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  at::Tensor read(const std::string& name) const;
  std::vector<std::string> names() const;
  std::string file_of(const std::string& name) const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

/// Binds checkpoint tensors to parameters. Collects every problem and reports them together in finish().
class WeightBinder {
 public:
  /// `prefix` is prepended to every name looked up ("bert." for BertFor* checkpoints).
  WeightBinder(const Checkpoint& checkpoint, std::string prefix);

  /// Copies checkpoint tensor `name` into `target` (converting between float dtypes).
  void bind(const std::string& name, at::Tensor target);
  /// Like bind, but absence is fine (returns false): e.g. an untied LM head, a pooler.
  bool bind_optional(const std::string& name, at::Tensor target);
  /// Checkpoint tensors matching this regex (full name) are known and deliberately unused.
  void ignore(const std::string& pattern);
  /// Throws petlab::Error listing missing tensors, shape/dtype mismatches and unexpected tensors.
  void finish() const;

 private:
  const Checkpoint& checkpoint_;
  std::string prefix_;
  std::map<std::string, bool> used_;
  std::vector<std::regex> ignored_;
  std::vector<std::string> problems_;
};

}  // namespace petlab
