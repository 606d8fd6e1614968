// The architectures load_backbone() can build, registered explicitly in load.cpp.
#pragma once

#include "backbone/backbone.hpp"
#include "backbone/checkpoint.hpp"

#include <memory>

namespace petlab {

/// BERT and MiniLM (model_type "bert") and RoBERTa ("roberta"): one encoder with per-family options.
std::shared_ptr<Backbone> make_bert(const ModelConfig& config, const Checkpoint& checkpoint);
/// T5 v1.0 and v1.1 / FLAN-T5 (model_type "t5").
std::shared_ptr<Backbone> make_t5(const ModelConfig& config, const Checkpoint& checkpoint);

}  // namespace petlab
