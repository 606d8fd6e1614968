// The training loop of one run under the fair protocol: AdamW on what the methods marked trainable, a
// warmup schedule, length-grouped dynamic batches in data-seed order, dev evaluation every N steps or per
// epoch, early stopping with the best state kept in memory, and the caller evaluates test once after
// restore_best(). A NaN or infinite loss ends the run as diverged, with its curve kept.
#pragma once

#include "train/encoded_dataset.hpp"
#include "tuning/evaluation_merge.hpp"
#include "tuning/tuned_model.hpp"

#include <petlab/tasks/task.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace petlab::train {

/// The [train] settings of a study (see study/train_settings.hpp for keys, defaults and help).
struct TrainerOptions {
  double learning_rate = 5e-4, warmup_ratio = 0.06, weight_decay = 0.01, max_grad_norm = 1.0, length_penalty = 1.0;
  int64_t epochs = 3, max_steps = 0, batch_size = 16, grad_accumulation = 1, eval_batch_size = 64, warmup_steps = 0;
  int64_t eval_every_steps = 0;  ///< 0 = evaluate at the end of every epoch
  int64_t patience = 5, max_new_tokens = 64, num_beams = 1;
  std::string schedule = "linear";
  bool early_stopping_on_loss = false;
  bool group_by_length = true;  ///< see SamplerOptions
  bool merge_for_eval = true;   ///< evaluate with mergeable methods folded in (see tuning/evaluation_merge.hpp)

  /// Reads resolved [train] settings; throws petlab::Error naming a bad key.
  static TrainerOptions from_json(const nlohmann::json& train);
};

/// One evaluation: the task's metrics (main first) and the mean loss.
struct Evaluation {
  tasks::Scores scores;
  double loss = 0.0;
  /// {"accuracy": 91.2, ..., "loss": 0.25}
  nlohmann::json to_json() const;
  double main() const { return scores.empty() ? loss : scores.front().second; }
};

struct TrainOutcome {
  std::string status = "finished";  ///< finished | diverged
  std::string error;                ///< why it diverged
  std::optional<Evaluation> best_dev;
  int64_t steps = 0, steps_to_best = 0;
  double train_seconds = 0.0;
  int64_t train_tokens = 0;         ///< real (non-pad) source tokens seen in training
};

/// Receives one curve point: {step, loss, lr, dev, elapsed, tokens_per_s}.
using CurveSink = std::function<void(const nlohmann::json&)>;

class Trainer {
 public:
  Trainer(TunedModel& model, const tasks::Task& task, const tok::Tokenizer& tokenizer, TrainerOptions options,
          uint64_t data_seed);

  /// Trains on `train`, selecting on `dev` (whose examples score the predictions), and leaves the model in
  /// the best state seen (or the last one when none was evaluated).
  TrainOutcome fit(const EncodedDataset& train, const EncodedDataset& dev, const std::vector<tasks::Example>& dev_examples,
                   const CurveSink& curve);
  /// Scores `data` in evaluation mode, without gradients.
  Evaluation evaluate(const EncodedDataset& data, const std::vector<tasks::Example>& examples);

 private:
  at::Tensor loss_of(const struct Batch& batch);

  TunedModel& model_;
  const tasks::Task& task_;
  const tok::Tokenizer& tokenizer_;
  TrainerOptions options_;
  uint64_t data_seed_;
  EvaluationMerge evaluation_merge_;
};

/// Task head for `task` on an encoder (classification / regression / multiple choice), nullopt for T5 or a
/// generation task. Throws petlab::Error for a generation task on an encoder.
std::optional<HeadOptions> head_for_task(const tasks::Task& task, bool encoder_decoder);

}  // namespace petlab::train
