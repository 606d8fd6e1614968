#include "study/train_settings.hpp"

namespace petlab {

const std::vector<TrainKey>& train_keys() {
  static const std::vector<TrainKey> keys = {
      {"learning_rate", 5e-4, "peak learning rate of AdamW"},
      {"epochs", 3, "passes over the training set (max_steps > 0 overrides)"},
      {"max_steps", 0, "optimiser steps; 0 = use epochs"},
      {"batch_size", 16, "examples per optimiser step (before accumulation)"},
      {"grad_accumulation", 1, "micro-batches accumulated per optimiser step"},
      {"eval_batch_size", 64, "examples per evaluation batch"},
      {"group_by_length", true, "training batches of similar lengths (as HF's group_by_length); false = plain shuffle"},
      {"schedule", "linear", "linear | polynomial | constant"},
      {"warmup_ratio", 0.06, "share of the steps spent warming up (warmup_steps > 0 overrides)"},
      {"warmup_steps", 0, "warm-up steps"},
      {"weight_decay", 0.01, "AdamW decay; never on biases and norms"},
      {"max_grad_norm", 1.0, "gradient clipping by global norm; 0 = off"},
      {"eval_every", "epoch", "\"epoch\" or a number of steps between dev evaluations"},
      {"patience", 5, "evaluations without improvement before stopping early; 0 = never stop early"},
      {"early_stopping_on", "metric", "metric (the task's main dev metric) | loss (dev loss)"},
      {"max_new_tokens", 64, "generation length for text-to-text tasks"},
      {"num_beams", 1, "beam width for generation (1 = greedy)"},
      {"length_penalty", 1.0, "beam search length penalty"},
      {"merge_for_eval", true, "fold mergeable methods (LoRA, IA3) into the weights while evaluating; restored exactly"},
      {"threads", 0, "intra-op threads per worker; 0 = the worker's share of the cores"},
      {"save_adapter", false, "write the best method parameters and head to adapter/"},
  };
  return keys;
}

nlohmann::json default_train_settings() {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& k : train_keys()) out[k.name] = k.default_value;
  return out;
}

bool train_value_fits(const TrainKey& key, const nlohmann::json& value) {
  if (key.name == "eval_every")
    return (value.is_string() && value == "epoch") || (value.is_number_integer() && value.get<int64_t>() > 0);
  const auto& d = key.default_value;
  if (d.is_boolean()) return value.is_boolean();
  if (d.is_number_integer()) return value.is_number_integer();
  if (d.is_number_float()) return value.is_number();
  if (d.is_string()) return value.is_string();
  return false;
}

}  // namespace petlab
