// Every parameter of a model with the tags that make marking declarative: the backbone's, the head's and
// those methods create. Optimisers, saving and counting all read this one table.
#pragma once

#include <ATen/core/Tensor.h>

#include <deque>
#include <string>
#include <unordered_map>

namespace petlab {

struct Parameter {
  std::string name;   ///< checkpoint name for the backbone, "<method>/<name>" for method parameters
  at::Tensor tensor;  ///< a leaf; requires_grad() is its trainable flag
  std::string tags;   ///< comma-separated: bias, weight, norm, embedding, head, attn, ffn, enc, dec...
  std::string owner;  ///< "backbone", "head" or a method id
  int layer = -1;

  bool trainable() const { return tensor.requires_grad(); }
  bool has_tag(const std::string& tag) const;
};

class ParameterTable {
 public:
  /// Adds a parameter; names are unique (throws petlab::Error naming the duplicate).
  Parameter& add(Parameter parameter);
  Parameter* find(const std::string& name);
  std::deque<Parameter>& all() { return params_; }
  const std::deque<Parameter>& all() const { return params_; }

  /// Freezes every parameter (a PET run starts here, then methods and the head mark what trains).
  void freeze_all();
  int64_t count_elements(bool trainable_only) const;

 private:
  std::deque<Parameter> params_;  // deque: handles given to plugins point at these tensors
  std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace petlab
