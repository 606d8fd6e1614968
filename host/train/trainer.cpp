#include "train/trainer.hpp"

#include "backbone/t5.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "train/batching.hpp"
#include "train/divergence.hpp"
#include "train/early_stopping.hpp"
#include "train/generation.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"
#include "tokenizer/tokenizer.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace petlab::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool is_text_to_text(const TunedModel& model) { return model.backbone().is_encoder_decoder(); }

template <class T>
T read(const nlohmann::json& j, const char* key, T fallback) {
  if (!j.contains(key)) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(fmt::format("[train] {}: expected a {}, got {}", key, std::is_integral_v<T> ? "whole number" : "value",
                            j.at(key).dump()));
  }
}

}  // namespace

TrainerOptions TrainerOptions::from_json(const nlohmann::json& t) {
  TrainerOptions o;
  o.learning_rate = read(t, "learning_rate", o.learning_rate);
  o.epochs = read(t, "epochs", o.epochs);
  o.max_steps = read(t, "max_steps", o.max_steps);
  o.batch_size = read(t, "batch_size", o.batch_size);
  o.grad_accumulation = read(t, "grad_accumulation", o.grad_accumulation);
  o.eval_batch_size = read(t, "eval_batch_size", o.eval_batch_size);
  o.schedule = read(t, "schedule", o.schedule);
  o.warmup_ratio = read(t, "warmup_ratio", o.warmup_ratio);
  o.warmup_steps = read(t, "warmup_steps", o.warmup_steps);
  o.weight_decay = read(t, "weight_decay", o.weight_decay);
  o.max_grad_norm = read(t, "max_grad_norm", o.max_grad_norm);
  o.patience = read(t, "patience", o.patience);
  o.max_new_tokens = read(t, "max_new_tokens", o.max_new_tokens);
  o.group_by_length = read(t, "group_by_length", o.group_by_length);
  o.merge_for_eval = read(t, "merge_for_eval", o.merge_for_eval);
  o.num_beams = read(t, "num_beams", o.num_beams);
  o.length_penalty = read(t, "length_penalty", o.length_penalty);
  if (t.contains("eval_every") && t["eval_every"].is_number_integer()) o.eval_every_steps = t["eval_every"].get<int64_t>();
  const std::string on = read(t, "early_stopping_on", std::string("metric"));
  if (on != "metric" && on != "loss") throw Error(fmt::format("[train] early_stopping_on: '{}' is not metric or loss", on));
  o.early_stopping_on_loss = on == "loss";
  if (o.epochs < 1 && o.max_steps < 1) throw Error("[train]: set epochs >= 1 or max_steps >= 1");
  if (o.batch_size < 1 || o.eval_batch_size < 1 || o.grad_accumulation < 1)
    throw Error("[train]: batch_size, eval_batch_size and grad_accumulation must be at least 1");
  return o;
}

nlohmann::json Evaluation::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : scores) j[name] = value;
  j["loss"] = loss;
  return j;
}

std::optional<HeadOptions> head_for_task(const tasks::Task& task, bool encoder_decoder) {
  if (encoder_decoder) return std::nullopt;
  switch (task.info.format) {
    case tasks::Format::classification:
    case tasks::Format::span_pair:
      return HeadOptions{.kind = HeadKind::classification, .num_labels = static_cast<int64_t>(task.info.labels.size())};
    case tasks::Format::regression: return HeadOptions{.kind = HeadKind::regression};
    case tasks::Format::multiple_choice:
    case tasks::Format::candidate_ranking: return HeadOptions{.kind = HeadKind::multiple_choice};
    case tasks::Format::generation: break;
  }
  throw Error(fmt::format("task '{}' generates text: it needs an encoder-decoder backbone (T5)", task.info.id));
}

Trainer::Trainer(TunedModel& model, const tasks::Task& task, const tok::Tokenizer& tokenizer, TrainerOptions options,
                 uint64_t data_seed)
    : model_(model), task_(task), tokenizer_(tokenizer), options_(std::move(options)), data_seed_(data_seed),
      evaluation_merge_(model) {}

/// The task loss of one batch in the model's current mode; for encoders the head's scores [B, C] or [B].
at::Tensor Trainer::loss_of(const Batch& batch) {
  Backbone& backbone = model_.backbone();
  const EncoderOutput encoded = backbone.encode(batch.input_ids, batch.attention_mask, batch.token_type_ids);
  if (is_text_to_text(model_)) return static_cast<T5Model&>(backbone).loss(encoded, batch.labels);
  at::Tensor scores = model_.head()->forward(encoded, batch.num_choices);
  switch (model_.head()->options().kind) {
    case HeadKind::regression: return at::mse_loss(scores.to(at::kFloat), batch.labels.to(at::kFloat));
    case HeadKind::multiple_choice:
      if (batch.choice_mask.defined()) scores = scores.masked_fill(batch.choice_mask.logical_not(), -1e9);
      [[fallthrough]];
    case HeadKind::classification:
      return at::cross_entropy_loss(scores.to(at::kFloat), batch.labels, {}, at::Reduction::Mean, /*ignore_index=*/-1);
  }
  return {};
}

Evaluation Trainer::evaluate(const EncodedDataset& data, const std::vector<tasks::Example>& examples) {
  model_.train(false);
  at::NoGradGuard no_grad;
  std::optional<EvaluationMerge::Scope> merged;
  if (options_.merge_for_eval) merged.emplace(evaluation_merge_);
  const c10::Device device = model_.backbone().surface().params.all().front().tensor.device();
  std::vector<tasks::Prediction> predictions(examples.size());
  double loss_sum = 0.0;
  int64_t loss_rows = 0;
  for (const BatchIndices& indices : evaluation_batches(data.lengths(), options_.eval_batch_size)) {
    const Batch batch = collate(data, indices).to(device);
    Backbone& backbone = model_.backbone();
    const EncoderOutput encoded = backbone.encode(batch.input_ids, batch.attention_mask, batch.token_type_ids);
    if (is_text_to_text(model_)) {
      auto& t5 = static_cast<T5Model&>(backbone);
      const at::Tensor labelled = batch.labels.ne(-100).any(1);
      if (labelled.any().item<bool>()) {
        loss_sum += t5.loss(encoded, batch.labels).item<double>() * batch.size();
        loss_rows += batch.size();
      }
      GenerationOptions g{.max_new_tokens = options_.max_new_tokens, .num_beams = options_.num_beams,
                          .length_penalty = options_.length_penalty};
      const at::Tensor generated = generate(t5, batch.input_ids, batch.attention_mask, g).cpu();
      for (int64_t r = 0; r < batch.size(); ++r) {
        const at::Tensor row = generated[r].contiguous();
        const std::span<const int64_t> ids(row.data_ptr<int64_t>(), static_cast<size_t>(row.numel()));
        const size_t i = batch.indices[static_cast<size_t>(r)];
        predictions[i] = {examples[i].id, std::nullopt, std::nullopt, tokenizer_.decode(ids, true)};
      }
      continue;
    }
    at::Tensor scores = model_.head()->forward(encoded, batch.num_choices).to(at::kFloat);
    const HeadKind kind = model_.head()->options().kind;
    if (kind == HeadKind::multiple_choice && batch.choice_mask.defined())
      scores = scores.masked_fill(batch.choice_mask.logical_not(), -1e9);
    const at::Tensor labels = batch.labels;
    if (kind == HeadKind::regression) {
      const at::Tensor known = labels.isnan().logical_not();
      if (known.any().item<bool>()) {
        loss_sum += at::mse_loss(scores.index({known}), labels.index({known}).to(at::kFloat)).item<double>() * batch.size();
        loss_rows += batch.size();
      }
    } else if (labels.ge(0).any().item<bool>()) {
      loss_sum += at::cross_entropy_loss(scores, labels, {}, at::Reduction::Mean, -1).item<double>() * batch.size();
      loss_rows += batch.size();
    }
    const at::Tensor cpu_scores = scores.cpu();
    const at::Tensor best = kind == HeadKind::regression ? at::Tensor() : cpu_scores.argmax(1);
    for (int64_t r = 0; r < batch.size(); ++r) {
      const size_t i = batch.indices[static_cast<size_t>(r)];
      tasks::Prediction p{examples[i].id, std::nullopt, std::nullopt, std::nullopt};
      if (kind == HeadKind::regression) p.value = cpu_scores[r].item<double>();
      else p.label = static_cast<int>(best[r].item<int64_t>());
      predictions[i] = std::move(p);
    }
  }
  if (merged) merged->close();  // a method that cannot unmerge fails the run here, with its message
  Evaluation e;
  e.scores = task_.score(examples, predictions);
  e.loss = loss_rows > 0 ? loss_sum / static_cast<double>(loss_rows) : std::nan("");
  return e;
}

TrainOutcome Trainer::fit(const EncodedDataset& train, const EncodedDataset& dev,
                          const std::vector<tasks::Example>& dev_examples, const CurveSink& curve) {
  TrainOutcome outcome;
  ParameterTable& params = model_.backbone().surface().params;
  const c10::Device device = params.all().front().tensor.device();
  const BatchSampler sampler(train.lengths(), {.batch_size = options_.batch_size,
                                               .group_by_length = options_.group_by_length,
                                               .data_seed = data_seed_});
  const int64_t steps_per_epoch =
      (sampler.batches_per_epoch() + options_.grad_accumulation - 1) / options_.grad_accumulation;
  const int64_t total_steps = options_.max_steps > 0 ? options_.max_steps : options_.epochs * steps_per_epoch;
  Optimizer optimizer(params, {.learning_rate = options_.learning_rate,
                               .weight_decay = options_.weight_decay,
                               .max_grad_norm = options_.max_grad_norm,
                               .accumulation_steps = options_.grad_accumulation});
  const Schedule schedule({.kind = parse_schedule_kind(options_.schedule),
                           .warmup_steps = options_.warmup_steps,
                           .warmup_ratio = options_.warmup_steps > 0 ? 0.0 : options_.warmup_ratio},
                          options_.learning_rate, total_steps);
  EarlyStopping stopping({.goal = options_.early_stopping_on_loss ? Goal::minimize : Goal::maximize,
                          .patience = options_.patience});
  BestState best;
  DivergenceMonitor divergence;

  const auto start = Clock::now();
  double eval_seconds = 0.0, loss_window = 0.0;
  int64_t window_batches = 0, step = 0, last_eval = -1;
  auto evaluate_dev = [&](bool end_of_epoch) {
    const auto eval_start = Clock::now();
    const Evaluation e = evaluate(dev, dev_examples);
    eval_seconds += seconds_since(eval_start);
    last_eval = step;
    const double value = options_.early_stopping_on_loss ? e.loss : e.main();
    if (stopping.update(value, step)) {
      best.capture(params);
      outcome.best_dev = e;
      outcome.steps_to_best = step;
    }
    const double train_time = seconds_since(start) - eval_seconds;
    curve({{"step", step},
           {"loss", window_batches ? loss_window / window_batches : std::nan("")},
           {"lr", schedule.lr(std::max<int64_t>(0, step - 1))},
           {"dev", e.to_json()},
           {"epoch_end", end_of_epoch},
           {"elapsed", seconds_since(start)},
           {"tokens_per_s", train_time > 0 ? outcome.train_tokens / train_time : 0.0}});
    loss_window = 0.0;
    window_batches = 0;
    log::info("step {}: dev {} = {:.4f}{}", step, options_.early_stopping_on_loss ? "loss" : "metric", value,
              stopping.best_step() == step ? " (best)" : "");
  };

  bool stop = false;
  for (int64_t epoch = 0; !stop && step < total_steps; ++epoch) {
    model_.train(true);
    const auto batches = sampler.epoch(epoch);
    for (size_t b = 0; b < batches.size() && !stop; ++b) {
      const Batch batch = collate(train, batches[b]).to(device);
      const at::Tensor loss = loss_of(batch);
      const double value = loss.item<double>();
      outcome.train_tokens += batch.tokens;
      if (!divergence.check_loss(value, step)) {
        outcome.status = "diverged";
        outcome.error = divergence.divergence()->message();
        stop = true;
        break;
      }
      loss_window += value;
      ++window_batches;
      const bool window_done = optimizer.backward(loss) || b + 1 == batches.size();
      if (!window_done) continue;
      const double norm = optimizer.step(schedule.lr(step));
      ++step;
      if (!divergence.check_grad_norm(norm, step)) {
        outcome.status = "diverged";
        outcome.error = divergence.divergence()->message();
        stop = true;
        break;
      }
      const bool eval_now = options_.eval_every_steps > 0 && step % options_.eval_every_steps == 0;
      if (step % 20 == 0 && !eval_now) {  // a training-loss point between evaluations
        curve({{"step", step}, {"loss", loss_window / std::max<int64_t>(1, window_batches)}, {"lr", schedule.lr(step - 1)},
               {"dev", nullptr}, {"elapsed", seconds_since(start)},
               {"tokens_per_s", outcome.train_tokens / std::max(1e-9, seconds_since(start) - eval_seconds)}});
        loss_window = 0.0;
        window_batches = 0;
      }
      if (eval_now) {
        evaluate_dev(false);
        model_.train(true);
        stop = stopping.should_stop();
      }
      if (step >= total_steps) stop = true;
    }
    if (outcome.status == "diverged") break;
    if (options_.eval_every_steps == 0) {
      evaluate_dev(true);
      stop = stop || stopping.should_stop();
    }
  }
  if (outcome.status == "finished" && last_eval != step) evaluate_dev(false);  // the last steps count too
  outcome.steps = step;
  outcome.train_seconds = seconds_since(start) - eval_seconds;
  if (!best.empty()) best.restore(params);
  model_.train(false);
  return outcome;
}

}  // namespace petlab::train
