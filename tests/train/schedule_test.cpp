// Learning-rate schedules against transformers' get_*_schedule_with_warmup, step by step, and the errors.
#include "core/error.hpp"
#include "train/schedule.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

using namespace petlab;
using namespace petlab::train;

namespace {
nlohmann::json reference_cases() {
  std::ifstream in(std::filesystem::path(PETLAB_FIXTURE_DIR) / "train_schedules" / "schedules.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}
}  // namespace

TEST_CASE("schedules give transformers' learning rate at every step") {
  const auto cases = reference_cases();
  REQUIRE(cases.size() >= 9);
  double worst = 0;
  size_t compared = 0;
  for (const auto& c : cases) {
    CAPTURE(c["name"].get<std::string>());
    ScheduleOptions o{.kind = parse_schedule_kind(c["kind"]),
                      .warmup_steps = c["warmup_steps"],
                      .warmup_ratio = c["warmup_ratio"],
                      .power = c["power"],
                      .end_lr = c["end_lr"]};
    const Schedule schedule(o, c["base_lr"], c["total_steps"]);
    CHECK(schedule.warmup_steps() == c["resolved_warmup"].get<int64_t>());
    const auto lrs = c["lrs"].get<std::vector<double>>();
    for (size_t step = 0; step < lrs.size(); ++step) {
      const double ours = schedule.lr(static_cast<int64_t>(step)), theirs = lrs[step];
      const double rel = std::abs(ours - theirs) / std::max(std::abs(theirs), 1e-300);
      if (theirs == 0) CHECK(ours == 0);
      else CHECK(rel <= 1e-9);
      worst = std::max(worst, theirs == 0 ? 0 : rel);
      ++compared;
    }
  }
  MESSAGE("learning rates compared: " << compared << ", max relative difference " << worst);
}

TEST_CASE("schedule options are checked, naming the knob") {
  CHECK_THROWS_WITH_AS(parse_schedule_kind("cosine"), doctest::Contains("linear, polynomial or constant"), Error);
  CHECK_THROWS_WITH_AS(Schedule({.warmup_steps = 5, .warmup_ratio = 0.1}, 1e-3, 100),
                       doctest::Contains("warmup_steps and warmup_ratio"), Error);
  CHECK_THROWS_WITH_AS(Schedule({.warmup_ratio = 1.5}, 1e-3, 100), doctest::Contains("warmup_ratio"), Error);
  CHECK_THROWS_WITH_AS(Schedule({.warmup_steps = -1}, 1e-3, 100), doctest::Contains("warmup_steps"), Error);
  CHECK_THROWS_WITH_AS(Schedule({}, 1e-3, 0), doctest::Contains("optimiser steps"), Error);
  CHECK_THROWS_WITH_AS(Schedule({}, 0.0, 10), doctest::Contains("learning_rate"), Error);
  CHECK_THROWS_WITH_AS(Schedule({.kind = ScheduleKind::polynomial, .end_lr = 1e-3}, 1e-3, 10),
                       doctest::Contains("end_lr"), Error);
  CHECK_THROWS_WITH_AS(Schedule({.kind = ScheduleKind::polynomial, .power = 0}, 1e-3, 10),
                       doctest::Contains("power"), Error);
  // Warmup over the whole run: the polynomial schedule stays finite where HF would divide by zero.
  const Schedule all_warmup({.kind = ScheduleKind::polynomial, .warmup_steps = 10}, 1e-3, 10);
  CHECK(std::isfinite(all_warmup.lr(10)));
}
