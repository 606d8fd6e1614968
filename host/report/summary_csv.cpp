#include "report/summary_csv.hpp"

#include "report/format.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace petlab::report {

namespace {

std::string text(const std::optional<double>& v) { return v ? shortest(*v) : ""; }
std::string text(const std::optional<long long>& v) { return v ? std::to_string(*v) : ""; }

std::vector<std::string> fixed_fields(const Run& r) {
  return {r.study, r.cell, r.task, r.method, r.method_label, text(r.train_size), r.protocol,
          std::to_string(r.seed), to_string(r.status), r.metric, text(r.dev), text(r.test),
          text(r.trainable_params), text(r.percent_trainable), text(r.steps), text(r.steps_to_best),
          text(r.wall_time_s), text(r.tokens_per_s), text(r.peak_rss_mb)};
}

void append_row(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += csv_field(fields[i]);
  }
  out += "\r\n";
}

}  // namespace

const std::vector<std::string>& summary_columns() {
  static const std::vector<std::string> columns = {
      "study", "cell", "task", "method", "method_label", "train_size", "protocol", "seed", "status", "metric",
      "dev", "test", "trainable_params", "percent_trainable", "steps", "steps_to_best", "wall_time_s",
      "tokens_per_s", "peak_rss_mb"};
  return columns;
}

std::string csv_field(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string summary_csv(const std::vector<Run>& runs) {
  std::vector<const Run*> sorted;
  for (const Run& r : runs) sorted.push_back(&r);
  // The whole training set (no train_size) sorts after every number; the cell breaks the last ties.
  using Key = std::tuple<const std::string&, const std::string&, bool, long long, const std::string&, long long,
                         const std::string&>;
  auto key = [](const Run* r) {
    return Key{r->task, r->method_label, !r->train_size, r->train_size.value_or(0), r->protocol, r->seed, r->cell};
  };
  std::sort(sorted.begin(), sorted.end(), [&](const Run* a, const Run* b) { return key(a) < key(b); });

  std::set<std::string> setting_names;
  for (const Run& r : runs)
    for (const auto& [name, value] : r.settings) setting_names.insert(name);

  std::vector<std::string> header = summary_columns();
  header.insert(header.end(), setting_names.begin(), setting_names.end());
  std::string out;
  append_row(out, header);
  for (const Run* r : sorted) {
    std::vector<std::string> fields = fixed_fields(*r);
    for (const auto& name : setting_names) {
      auto it = r->settings.find(name);
      fields.push_back(it == r->settings.end() ? "" : it->second);
    }
    append_row(out, fields);
  }
  return out;
}

}  // namespace petlab::report
