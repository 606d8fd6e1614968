// Split statistics for `petlab data stats`.
#include "petlab/tasks/stats.hpp"
#include "petlab/tasks/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace petlab::tasks {

namespace {

// numpy.percentile's default (linear interpolation between closest ranks).
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

nlohmann::json distribution(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return {{"p50", percentile(values, 50)}, {"p90", percentile(values, 90)}, {"p99", percentile(values, 99)},
          {"max", values.empty() ? 0.0 : values.back()}};
}

nlohmann::json one_split(const Task& task, const std::vector<Example>& examples) {
  nlohmann::json out;
  out["examples"] = examples.size();
  std::map<std::string, long long> labels;
  std::vector<double> words, chars;
  for (const auto& e : examples) {
    if (e.label >= 0) {
      const auto i = static_cast<std::size_t>(e.label);
      labels[task.info.format == Format::multiple_choice || i >= task.info.labels.size() ? std::to_string(i)
                                                                                        : task.info.labels[i]] += 1;
    } else if (!e.labelled()) {
      labels["(unlabelled)"] += 1;
    }
    double w = 0, c = 0;
    for (const auto& t : e.texts) {
      w += static_cast<double>(text::split_whitespace(t).size());
      c += static_cast<double>(text::decode(t).size());
    }
    words.push_back(w);
    chars.push_back(c);
  }
  out["labels"] = labels;
  out["words"] = distribution(words);
  out["chars"] = distribution(chars);
  return out;
}

}  // namespace

nlohmann::json split_stats(const Task& task, const Splits& splits, const SplitOptions& options) {
  nlohmann::json out;
  out["task"] = task.info.id;
  out["protocol"] = to_string(options.protocol);
  out["files"] = nlohmann::json::array();
  for (const auto& f : splits.files) {
    out["files"].push_back({{"file", f.path.filename().string()},
                            {"split", to_string(f.split)},
                            {"used", f.used},
                            {"records", task.count_records(f.path)}});
  }
  out["splits"] = {{"train", one_split(task, splits.train)},
                   {"dev", one_split(task, splits.dev)},
                   {"test", one_split(task, splits.test)}};
  if (options.train_size) out["train_size"] = *options.train_size;
  out["notes"] = splits.notes;
  return out;
}

template <class... Args>
std::string format_line(const char* format, Args... args) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, format, args...);
  return buffer;
}

std::string stats_text(const nlohmann::json& stats) {
  std::string s = stats["task"].get<std::string>() + " (protocol " + stats["protocol"].get<std::string>() + ")\n";
  for (const auto& f : stats["files"])
    s += format_line("  file %-24s official %-5s %8lld records%s\n", f["file"].get<std::string>().c_str(),
                     f["split"].get<std::string>().c_str(), f["records"].get<long long>(),
                     f["used"].get<bool>() ? "" : " (not used)");
  for (const char* name : {"train", "dev", "test"}) {
    const auto& sp = stats["splits"][name];
    const auto& w = sp["words"];
    s += format_line("  %-5s %8lld examples  words p50 %.0f p90 %.0f p99 %.0f max %.0f\n", name,
                     sp["examples"].get<long long>(), w["p50"].get<double>(), w["p90"].get<double>(),
                     w["p99"].get<double>(), w["max"].get<double>());
    for (const auto& [label, n] : sp["labels"].items())
      s += format_line("        %-20s %8lld\n", label.c_str(), n.get<long long>());
  }
  for (const auto& note : stats["notes"]) s += "  note: " + note.get<std::string>() + "\n";
  return s;
}

}  // namespace petlab::tasks
