// Runs aggregated the way the report shows them: one group per (task, train_size, protocol), one row per
// method label in it, with the seeds' test scores, their statistics and the test against full tuning.
#pragma once

#include "report/runs.hpp"
#include "report/stats.hpp"

#include <optional>
#include <string>
#include <vector>

namespace petlab::report {

/// Method id of the full-tuning baseline that significance and cost are measured against.
inline constexpr const char* kBaselineMethod = "full";

struct MethodRow {
  std::string method, label;
  std::vector<const Run*> runs;          ///< every run of this method in the group, by seed
  std::vector<double> scores;            ///< test scores of the finished runs (that have one), by seed
  Summary score;                         ///< over `scores`
  int diverged = 0, failed = 0;
  std::optional<double> percent_trainable;      ///< mean over runs that report it
  std::optional<double> trainable_params;       ///< mean over runs that report it
  std::optional<double> wall_time_s, peak_rss_mb;  ///< means over finished runs (all runs when none finished)
  std::optional<WelchTest> vs_baseline;  ///< set when the group has a baseline and this row is not it
  bool is_baseline() const { return method == kBaselineMethod; }
};

struct Group {
  std::string task, metric, protocol;
  std::optional<long long> train_size;
  std::vector<MethodRow> rows;  ///< the baseline first, then by label
  const MethodRow* baseline() const;
};

/// Groups sorted by (task, train_size, protocol).
std::vector<Group> group_runs(const std::vector<Run>& runs);

/// "2000", or "all" for the whole training set.
std::string train_size_text(const std::optional<long long>& train_size);

/// A task × train_size × method present under both the fair and the legacy protocol.
struct Inflation {
  std::string task, metric, label;
  std::optional<long long> train_size;
  bool baseline = false;  ///< full tuning (listed first)
  Summary fair, legacy;
  double inflation() const { return legacy.mean - fair.mean; }
};
std::vector<Inflation> protocol_inflation(const std::vector<Group>& groups);

/// Every method label of the study in display order (the baseline first): fixes each method's colour.
std::vector<std::string> method_labels(const std::vector<Group>& groups);

}  // namespace petlab::report
