#include "report/groups.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace petlab::report {

namespace {

std::optional<double> mean_of(const std::vector<const Run*>& runs, std::optional<double> (*field)(const Run&)) {
  double sum = 0;
  int n = 0;
  for (const Run* run : runs) {
    if (auto v = field(*run)) {
      sum += *v;
      ++n;
    }
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

/// Cost is measured on finished runs; a method that never finished still shows what it cost.
std::optional<double> cost_mean(const std::vector<const Run*>& runs, std::optional<double> (*field)(const Run&)) {
  std::vector<const Run*> finished;
  for (const Run* run : runs)
    if (run->status == RunStatus::finished) finished.push_back(run);
  auto v = mean_of(finished, field);
  return v ? v : mean_of(runs, field);
}

/// Sort key: the baseline first, then by label.
auto row_order(const std::string& method, const std::string& label) {
  return std::tuple{method != kBaselineMethod, label};
}

MethodRow make_row(std::vector<const Run*> runs) {
  std::sort(runs.begin(), runs.end(), [](const Run* a, const Run* b) { return a->seed < b->seed; });
  MethodRow row;
  row.method = runs.front()->method;
  row.label = runs.front()->method_label;
  row.runs = runs;
  for (const Run* run : runs) {
    if (run->status == RunStatus::finished && run->test) row.scores.push_back(*run->test);
    if (run->status == RunStatus::diverged) ++row.diverged;
    if (run->status == RunStatus::failed) ++row.failed;
  }
  row.score = summarize(row.scores);
  row.percent_trainable = mean_of(runs, [](const Run& r) { return r.percent_trainable; });
  row.trainable_params = mean_of(runs, [](const Run& r) -> std::optional<double> {
    if (!r.trainable_params) return std::nullopt;
    return static_cast<double>(*r.trainable_params);
  });
  row.wall_time_s = cost_mean(runs, [](const Run& r) { return r.wall_time_s; });
  row.peak_rss_mb = cost_mean(runs, [](const Run& r) { return r.peak_rss_mb; });
  return row;
}

}  // namespace

const MethodRow* Group::baseline() const {
  for (const auto& row : rows)
    if (row.is_baseline()) return &row;
  return nullptr;
}

std::string train_size_text(const std::optional<long long>& train_size) {
  return train_size ? std::to_string(*train_size) : "all";
}

std::vector<Group> group_runs(const std::vector<Run>& runs) {
  // nullopt (the whole training set) sorts after every number.
  using Key = std::tuple<std::string, bool, long long, std::string>;
  std::map<Key, std::map<std::tuple<bool, std::string>, std::vector<const Run*>>> by_group;
  for (const Run& run : runs) {
    const Key key{run.task, !run.train_size, run.train_size.value_or(0), run.protocol};
    by_group[key][row_order(run.method, run.method_label)].push_back(&run);
  }
  std::vector<Group> groups;
  for (auto& [key, by_label] : by_group) {
    Group group;
    const Run& first = *by_label.begin()->second.front();
    group.task = first.task;
    // A run that failed before training carries no metric: take it from any other run of the group.
    for (const auto& [order, rows] : by_label)
      for (const Run* run : rows)
        if (group.metric.empty()) group.metric = run->metric;
    group.protocol = first.protocol;
    group.train_size = first.train_size;
    for (auto& [order, rows] : by_label) group.rows.push_back(make_row(rows));
    // Several method ids may share one label (a plugin and its own baseline): the baseline id is what counts.
    if (const MethodRow* base = group.baseline()) {
      for (auto& row : group.rows)
        if (&row != base) row.vs_baseline = welch_t_test(row.scores, base->scores);
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

std::vector<Inflation> protocol_inflation(const std::vector<Group>& groups) {
  // (task, no train_size, train_size, not the baseline, label): the baseline first within a task and size
  using Key = std::tuple<std::string, bool, long long, bool, std::string>;
  std::map<Key, const MethodRow*> fair, legacy;
  std::map<Key, std::string> metric;
  for (const Group& g : groups) {
    for (const MethodRow& row : g.rows) {
      const Key key{g.task, !g.train_size, g.train_size.value_or(0), !row.is_baseline(), row.label};
      if (g.protocol == "fair") fair[key] = &row;
      if (g.protocol == "legacy") legacy[key] = &row;
      metric[key] = g.metric;
    }
  }
  std::vector<Inflation> out;
  for (const auto& [key, fair_row] : fair) {
    auto it = legacy.find(key);
    if (it == legacy.end() || fair_row->score.n == 0 || it->second->score.n == 0) continue;
    Inflation inflation;
    inflation.task = std::get<0>(key);
    inflation.train_size = std::get<1>(key) ? std::nullopt : std::optional<long long>(std::get<2>(key));
    inflation.baseline = !std::get<3>(key);
    inflation.label = std::get<4>(key);
    inflation.metric = metric[key];
    inflation.fair = fair_row->score;
    inflation.legacy = it->second->score;
    out.push_back(std::move(inflation));
  }
  return out;
}

std::vector<std::string> method_labels(const std::vector<Group>& groups) {
  std::map<std::tuple<bool, std::string>, bool> ordered;
  for (const Group& g : groups)
    for (const MethodRow& row : g.rows) ordered[row_order(row.method, row.label)] = true;
  std::vector<std::string> labels;
  for (const auto& [order, unused] : ordered) labels.push_back(std::get<1>(order));
  return labels;
}

}  // namespace petlab::report
