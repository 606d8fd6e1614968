// Task heads for encoder-only backbones, shaped like HF's *ForSequenceClassification / *ForMultipleChoice:
// BERT-style (dropout + linear on the pooler) for BERT checkpoints with a pooler, RoBERTa-style
// (dense + tanh + out_proj on the first token) for RoBERTa and pooler-less checkpoints. Head parameters are always trainable,
// registered in the surface with owner "head" and tag "head".
#pragma once

#include "backbone/backbone.hpp"

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

namespace petlab {

enum class HeadKind { classification, regression, multiple_choice };

struct HeadOptions {
  HeadKind kind = HeadKind::classification;
  int64_t num_labels = 2;  ///< classification only; regression has 1, multiple choice scores each choice
  double dropout = 0.1;
  double init_std = 0.02;  ///< normal init of the weights, as HF's initializer_range
};

class EncoderHead : public torch::nn::Module {
 public:
  EncoderHead(Backbone& backbone, const HeadOptions& options);

  /// Classification: [B, num_labels]; regression: [B]; multiple choice: the encoder ran on [B*C, T] and the
  /// result is [B, C] (num_choices = C).
  at::Tensor forward(const EncoderOutput& encoded, int64_t num_choices = 1);
  const HeadOptions& options() const { return options_; }

 private:
  Backbone& backbone_;
  HeadOptions options_;
  bool use_pooler_;
  torch::nn::Linear dense_{nullptr}, out_{nullptr};
};

}  // namespace petlab
