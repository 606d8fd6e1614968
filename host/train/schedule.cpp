#include "train/schedule.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace petlab::train {

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "linear") return ScheduleKind::linear;
  if (name == "polynomial") return ScheduleKind::polynomial;
  if (name == "constant") return ScheduleKind::constant;
  throw Error(fmt::format("schedule: unknown kind '{}' (expected linear, polynomial or constant)", name));
}

const char* to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::linear: return "linear";
    case ScheduleKind::polynomial: return "polynomial";
    case ScheduleKind::constant: return "constant";
  }
  return "?";
}

Schedule::Schedule(const ScheduleOptions& options, double base_lr, int64_t total_steps)
    : options_(options), base_lr_(base_lr), total_(total_steps) {
  if (!(base_lr > 0) || !std::isfinite(base_lr))
    throw Error(fmt::format("learning_rate: expected a positive number, got {}", base_lr));
  if (total_steps <= 0) throw Error(fmt::format("schedule: the run has {} optimiser steps, expected > 0", total_steps));
  if (options.warmup_steps < 0)
    throw Error(fmt::format("warmup_steps: expected >= 0, got {}", options.warmup_steps));
  if (!(options.warmup_ratio >= 0 && options.warmup_ratio <= 1))
    throw Error(fmt::format("warmup_ratio: expected a number in [0, 1], got {}", options.warmup_ratio));
  if (options.warmup_steps > 0 && options.warmup_ratio > 0)
    throw Error("warmup_steps and warmup_ratio: give one of them, not both");
  // HF TrainingArguments.get_warmup_steps: ceil of the ratio.
  warmup_ = options.warmup_steps > 0 ? options.warmup_steps
                                     : static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * options.warmup_ratio));
  if (options.kind == ScheduleKind::polynomial) {
    if (!(options.end_lr >= 0) || !(options.end_lr < base_lr))  // HF refuses end_lr >= the initial rate too
      throw Error(fmt::format("end_lr: expected a rate in [0, learning_rate = {}), got {}", base_lr, options.end_lr));
    if (!(options.power > 0)) throw Error(fmt::format("power: expected a positive number, got {}", options.power));
  }
}

double Schedule::factor(int64_t step) const {
  const double s = static_cast<double>(step);
  if (step < warmup_) return s / std::max(1.0, static_cast<double>(warmup_));
  switch (options_.kind) {
    case ScheduleKind::constant: return 1.0;
    case ScheduleKind::linear:
      return std::max(0.0, static_cast<double>(total_ - step) / std::max(1.0, static_cast<double>(total_ - warmup_)));
    case ScheduleKind::polynomial: {
      if (step > total_) return options_.end_lr / base_lr_;
      const double range = base_lr_ - options_.end_lr;
      // max(1): HF divides by zero when warmup covers the whole run; here the rate just stays at end_lr.
      const double remaining = 1.0 - (s - warmup_) / std::max(1.0, static_cast<double>(total_ - warmup_));
      return (range * std::pow(remaining, options_.power) + options_.end_lr) / base_lr_;
    }
  }
  return 1.0;
}

}  // namespace petlab::train
