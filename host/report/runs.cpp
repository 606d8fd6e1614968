#include "report/runs.hpp"

#include "report/format.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <tuple>

namespace petlab::report {

namespace fs = std::filesystem;
using nlohmann::json;

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::finished: return "finished";
    case RunStatus::diverged: return "diverged";
    case RunStatus::failed: return "failed";
  }
  return "?";
}

namespace {

/// Typed access to result.json's keys; every failure names the file and the key.
class ResultReader {
 public:
  ResultReader(const json& j, const fs::path& file) : j_(j), file_(file) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw RunFileError(file_, "key '" + key + "': " + what);
  }
  const json& required(const std::string& key) const {
    auto it = j_.find(key);
    if (it == j_.end()) throw RunFileError(file_, "missing key '" + key + "'");
    return *it;
  }
  std::string string(const std::string& key) const {
    const json& v = required(key);
    if (!v.is_string()) fail(key, std::string("expected a string, got ") + v.type_name());
    return v.get<std::string>();
  }
  long long integer(const std::string& key) const {
    const json& v = required(key);
    if (!v.is_number_integer()) fail(key, std::string("expected an integer, got ") + v.type_name());
    return v.get<long long>();
  }
  /// A key the trainer writes as null when it has no value (a failed run has no step count).
  std::optional<long long> optional_integer(const std::string& key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) fail(key, std::string("expected an integer or null, got ") + it->type_name());
    return it->get<long long>();
  }
  std::optional<double> optional_number(const std::string& key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) fail(key, std::string("expected a number or null, got ") + it->type_name());
    return it->get<double>();
  }
  /// `key`[metric] of an object of metrics ("best_dev", "test"); nullopt when the key or the metric is absent
  /// or null (a failed run has no scores).
  std::optional<double> metric_of(const std::string& key, const std::string& metric) const {
    auto v = j_.find(key);
    if (v == j_.end() || v->is_null()) return std::nullopt;
    if (!v->is_object()) fail(key, std::string("expected an object of metrics or null, got ") + v->type_name());
    auto it = v->find(metric);
    if (it == v->end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) fail(key + "." + metric, std::string("expected a number, got ") + it->type_name());
    return it->get<double>();
  }
  bool has(const std::string& key) const { return j_.contains(key); }

 private:
  const json& j_;
  const fs::path& file_;
};

RunStatus parse_status(const ResultReader& r) {
  const std::string s = r.string("status");
  if (s == "finished") return RunStatus::finished;
  if (s == "diverged") return RunStatus::diverged;
  if (s == "failed") return RunStatus::failed;
  r.fail("status", "expected finished, diverged or failed, got '" + s + "'");
}

json parse_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw RunFileError(file, "cannot read the file");
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw RunFileError(file, std::string("not valid JSON (") + e.what() + ")");
  }
}

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_number_float()) return shortest(v.get<double>());
  return v.dump();  // integers, booleans, arrays
}

/// spec.json's "backbone" and "train" entries as dotted column names.
void flatten(const json& v, const std::string& name, std::map<std::string, std::string>& out) {
  if (v.is_object()) {
    for (const auto& [key, child] : v.items()) flatten(child, name + "." + key, out);
  } else {
    out[name] = scalar_text(v);
  }
}

void read_settings(const fs::path& spec_file, Run& run, std::vector<Problem>& warnings) {
  if (!fs::exists(spec_file)) return;
  try {
    const json spec = parse_file(spec_file);
    if (!spec.is_object()) throw RunFileError(spec_file, "expected a JSON object");
    for (const char* section : {"backbone", "train"}) {
      if (auto it = spec.find(section); it != spec.end()) flatten(*it, section, run.settings);
    }
  } catch (const RunFileError& e) {
    warnings.push_back(e.problem);
  }
}

/// The dev evaluations of curve.jsonl. A bad line (a kill mid-write leaves a partial last line) is
/// reported once per file and skipped; the rest of the curve is kept.
void read_curve(const fs::path& curve_file, Run& run, std::vector<Problem>& warnings) {
  std::ifstream in(curve_file, std::ios::binary);
  if (!in) return;
  std::string line, first_problem;
  int bad_lines = 0;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const json point = json::parse(line);
      auto step = point.find("step");
      if (step == point.end() || !step->is_number_integer()) throw std::runtime_error("key 'step': expected an integer");
      auto dev = point.find("dev");
      if (dev == point.end() || dev->is_null()) continue;
      if (!dev->is_object()) throw std::runtime_error("key 'dev': expected an object of metrics or null");
      auto value = dev->find(run.metric);
      if (value == dev->end() || !value->is_number()) continue;
      run.curve.push_back({step->get<long long>(), value->get<double>()});
    } catch (const std::exception& e) {
      if (bad_lines++ == 0) first_problem = "line " + std::to_string(number) + ": " + e.what();
    }
  }
  if (bad_lines > 0) {
    warnings.push_back({curve_file, std::to_string(bad_lines) + " unreadable line(s) skipped, first at " + first_problem});
  }
}

bool is_seed_folder(const fs::path& dir) {
  const std::string name = dir.filename().string();
  return name.size() > 5 && name.rfind("seed-", 0) == 0 &&
         std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Cells the runner's plan.json lists that have no folder yet: not started. When a cell lists its seeds,
/// each missing seed folder counts.
void add_unstarted(const fs::path& plan_file, StudyRuns& study) {
  json plan;
  try {
    plan = parse_file(plan_file);
  } catch (const RunFileError& e) {
    study.warnings.push_back(e.problem);
    return;
  }
  auto cells = plan.find("cells");
  if (cells == plan.end() || !cells->is_array()) return;
  for (const json& cell : *cells) {
    if (!cell.is_object() || !cell.contains("cell") || !cell["cell"].is_string()) continue;
    const fs::path cell_dir = plan_file.parent_path() / cell["cell"].get<std::string>();
    auto seeds = cell.find("seeds");
    if (seeds != cell.end() && seeds->is_array()) {
      for (const json& seed : *seeds) {
        if (!seed.is_number_integer()) continue;
        const fs::path seed_dir = cell_dir / ("seed-" + std::to_string(seed.get<long long>()));
        if (!fs::exists(seed_dir)) study.pending.push_back({seed_dir, "not started (listed in plan.json)"});
      }
    } else if (!fs::exists(cell_dir)) {
      study.pending.push_back({cell_dir, "not started (listed in plan.json)"});
    }
  }
}

}  // namespace

Run read_run(const fs::path& result_file, std::vector<Problem>& warnings) {
  const json j = parse_file(result_file);
  if (!j.is_object()) throw RunFileError(result_file, std::string("expected a JSON object, got ") + j.type_name());
  const ResultReader r(j, result_file);
  Run run;
  run.dir = result_file.parent_path();
  run.study = r.string("study");
  run.cell = r.string("cell");
  run.seed = r.integer("seed");
  run.task = r.string("task");
  run.method = r.string("method");
  run.method_label = r.string("method_label");
  run.protocol = r.string("protocol");
  r.required("train_size");  // null means the whole training set; absent is an error
  run.train_size = r.optional_integer("train_size");
  run.status = parse_status(r);
  // A run that failed before training (the runner writes those for a crashed worker) has no metric yet.
  if (run.status != RunStatus::failed || r.has("metric")) run.metric = r.string("metric");
  run.dev = r.metric_of("best_dev", run.metric);
  run.test = r.metric_of("test", run.metric);
  if (run.status == RunStatus::finished && !run.test) {
    const json& test = r.required("test");
    if (!test.is_object() || !test.contains(run.metric))
      r.fail("test." + run.metric, "a finished run needs its test score in the study's metric");
    // null: the metric was not a number (a correlation of constant predictions). The run stays, unscored.
    warnings.push_back({result_file, "test." + run.metric + " is null (not a number?): a finished run without a score"});
  }
  run.trainable_params = r.optional_integer("trainable_params");
  run.percent_trainable = r.optional_number("percent_trainable");
  run.steps = r.optional_integer("steps");
  run.steps_to_best = r.optional_integer("steps_to_best");
  run.wall_time_s = r.optional_number("wall_time_s");
  run.tokens_per_s = r.optional_number("tokens_per_s");
  run.peak_rss_mb = r.optional_number("peak_rss_mb");
  if (auto it = j.find("error"); it != j.end() && it->is_string()) run.error = it->get<std::string>();
  read_settings(run.dir / "spec.json", run, warnings);
  read_curve(run.dir / "curve.jsonl", run, warnings);
  return run;
}

StudyRuns collect_runs(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error("study folder " + dir.string() + " does not exist or is not a folder");
  StudyRuns study;
  study.dir = dir;
  std::vector<fs::path> result_files, plan_files;
  constexpr int kMaxDepth = 8;  // merged shards may be symlinked in: follow links, but never loop forever
  auto options = fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied;
  for (auto it = fs::recursive_directory_iterator(dir, options, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    const fs::path folder = it->path();
    if (folder.filename().string().starts_with(".") || it.depth() >= kMaxDepth) {
      it.disable_recursion_pending();
      continue;
    }
    if (fs::exists(folder / "result.json")) {
      result_files.push_back(folder / "result.json");
      it.disable_recursion_pending();  // a run's own folders (adapter/) hold no runs
    } else if (is_seed_folder(folder) || fs::exists(folder / "spec.json")) {
      study.pending.push_back({folder, "started, no result.json yet (running, or interrupted)"});
      it.disable_recursion_pending();
    } else if (fs::exists(folder / "plan.json")) {
      plan_files.push_back(folder / "plan.json");
    }
  }
  if (ec) throw Error("cannot walk " + dir.string() + ": " + ec.message());
  if (fs::exists(dir / "plan.json")) plan_files.push_back(dir / "plan.json");
  std::sort(result_files.begin(), result_files.end());
  for (const auto& plan : plan_files) add_unstarted(plan, study);
  std::sort(study.pending.begin(), study.pending.end(),
            [](const Problem& a, const Problem& b) { return a.file < b.file; });

  // Merged shards can hold the same run twice: the first (by path) counts.
  std::map<std::tuple<std::string, std::string, long long>, fs::path> seen;
  for (const auto& file : result_files) {
    try {
      Run run = read_run(file, study.warnings);
      auto [it, inserted] = seen.emplace(std::tuple{run.study, run.cell, run.seed}, file);
      if (!inserted) {
        study.skipped.push_back({file, "duplicate of " + it->second.string() + " (same study, cell and seed)"});
        continue;
      }
      study.runs.push_back(std::move(run));
    } catch (const RunFileError& e) {
      study.skipped.push_back(e.problem);
    }
  }
  return study;
}

}  // namespace petlab::report
