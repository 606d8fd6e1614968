#include "backbone/heads.hpp"

#include "backbone/bert.hpp"
#include "backbone/dropout.hpp"
#include "core/error.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace petlab {

EncoderHead::EncoderHead(Backbone& backbone, const HeadOptions& options)
    : backbone_(backbone), options_(options) {
  if (backbone.is_encoder_decoder())
    throw Error("encoder heads are for encoder-only backbones; T5 predicts label words with its LM head");
  const int64_t H = backbone.hidden_size();
  const int64_t outputs = options.kind == HeadKind::classification ? options.num_labels : 1;
  if (outputs < 1) throw Error("a classification head needs num_labels >= 1");
  // As HF: BertFor* classify the pooled [CLS]; RobertaFor* ignore any pooler and use their own dense head.
  auto* bert = dynamic_cast<BertEncoder*>(&backbone);
  use_pooler_ = bert != nullptr && bert->has_pooler();

  auto init = [&](torch::nn::Linear& l) {
    at::NoGradGuard no_grad;
    l->weight.normal_(0.0, options.init_std);
    l->bias.zero_();
  };
  if (!use_pooler_) {
    dense_ = register_module("dense", torch::nn::Linear(H, H));
    init(dense_);
    backbone.surface().params.add({"head.dense.weight", dense_->weight, "head,weight", "head"});
    backbone.surface().params.add({"head.dense.bias", dense_->bias, "head,bias", "head"});
  }
  out_ = register_module("out", torch::nn::Linear(H, outputs));
  init(out_);
  backbone.surface().params.add({"head.out.weight", out_->weight, "head,weight", "head"});
  backbone.surface().params.add({"head.out.bias", out_->bias, "head,bias", "head"});
}

at::Tensor EncoderHead::forward(const EncoderOutput& encoded, int64_t num_choices) {
  const bool training = is_training();
  at::Tensor x;
  if (use_pooler_) {
    x = fast_dropout(static_cast<BertEncoder&>(backbone_).pool(encoded.hidden), options_.dropout, training);
  } else {
    x = fast_dropout(encoded.hidden.select(1, 0), options_.dropout, training);
    x = fast_dropout(at::tanh(dense_->forward(x)), options_.dropout, training);
  }
  at::Tensor logits = out_->forward(x);
  switch (options_.kind) {
    case HeadKind::classification: return logits;
    case HeadKind::regression: return logits.squeeze(-1);
    case HeadKind::multiple_choice: return logits.view({-1, num_choices});
  }
  return logits;
}

}  // namespace petlab
