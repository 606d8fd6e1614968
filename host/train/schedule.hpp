// Learning-rate schedules with warmup, as transformers' get_{linear,polynomial_decay,constant}_schedule_with_warmup
// compute them: the rate of optimiser step s (0-based: the first update uses s = 0) is base_lr * factor(s).
#pragma once

#include <cstdint>
#include <string>

namespace petlab::train {

enum class ScheduleKind { linear, polynomial, constant };
/// "linear" | "polynomial" | "constant"; anything else throws petlab::Error naming the knob and the choices.
ScheduleKind parse_schedule_kind(const std::string& name);
const char* to_string(ScheduleKind kind);

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::linear;
  /// Warmup length in optimiser steps; when 0, warmup_ratio * total steps rounded up (HF TrainingArguments).
  int64_t warmup_steps = 0;
  double warmup_ratio = 0.0;
  /// polynomial only: the decay's exponent and the rate reached at the last step (HF's lr_end, default 1e-7).
  double power = 1.0;
  double end_lr = 1e-7;
};

class Schedule {
 public:
  /// Checks the options against the run (throws petlab::Error naming the knob): total_steps > 0, warmup
  /// not negative, warmup_ratio in [0, 1], not both warmup forms, and for polynomial 0 <= end_lr < base_lr.
  Schedule(const ScheduleOptions& options, double base_lr, int64_t total_steps);

  /// Learning rate of optimiser step `step` (0-based). Past total_steps: linear gives 0, polynomial end_lr.
  double lr(int64_t step) const { return base_lr_ * factor(step); }
  /// The multiplier of base_lr at `step` (HF's lr_lambda).
  double factor(int64_t step) const;

  int64_t warmup_steps() const { return warmup_; }
  int64_t total_steps() const { return total_; }
  double base_lr() const { return base_lr_; }

 private:
  ScheduleOptions options_;
  double base_lr_;
  int64_t total_;
  int64_t warmup_;
};

}  // namespace petlab::train
