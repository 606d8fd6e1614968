// A transformer backbone loaded from a Hugging Face model folder: a LibTorch module that exposes the
// sites and tagged parameters of DESIGN.md through its ModelSurface. Architectures derive from it.
#pragma once

#include "backbone/config.hpp"
#include "model/surface.hpp"

#include <torch/nn/module.h>

#include <filesystem>
#include <memory>
#include <string>

namespace petlab {

/// What the encoder returns. `attention_mask` is the mask after `embed` hooks, which may have prepended
/// soft tokens (prompt tuning): heads and the decoder's cross-attention must use it, not the input mask.
struct EncoderOutput {
  at::Tensor hidden;          ///< [B, T', H]
  at::Tensor attention_mask;  ///< [B, T'] int64
};

class Backbone : public torch::nn::Module {
 public:
  ModelSurface& surface() { return surface_; }
  const ModelConfig& config() const { return config_; }
  virtual bool is_encoder_decoder() const = 0;
  virtual int64_t hidden_size() const = 0;
  virtual int64_t vocab_size() const = 0;

  /// Encoder states. token_type_ids may be undefined (zeros); architectures without segments ignore it.
  virtual EncoderOutput encode(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                               const at::Tensor& token_type_ids = {}) = 0;

 protected:
  explicit Backbone(ModelConfig config) : config_(std::move(config)) {}
  /// Registers a backbone parameter in the surface with its tags (see Parameter::tags).
  void expose(const std::string& name, const at::Tensor& tensor, const std::string& tags, int layer = -1) {
    surface_.params.add({name, tensor, tags, "backbone", layer});
  }

  ModelSurface surface_;
  ModelConfig config_;
};

struct LoadOptions {
  std::string device = "cpu";  ///< cpu | cuda | cuda:N | auto
  std::string dtype = "fp32";  ///< fp32 | bf16 | fp16 (autocast; weights stay fp32)
};

/// Loads config.json + weights from `dir` into the architecture its model_type names, in evaluation mode
/// on the requested device. Unknown model types list the supported ones.
std::shared_ptr<Backbone> load_backbone(const std::filesystem::path& dir, const LoadOptions& options = {});

}  // namespace petlab
