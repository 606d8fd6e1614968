// `petlab study plan|run|report`: the main job. plan expands a study file into cells; run executes them
// (see study/runner.hpp); report aggregates a results folder.
#include "cli/commands.hpp"
#include "plugin/registry.hpp"
#include "core/error.hpp"
#include "study/plan.hpp"
#include "study/plan_check.hpp"
#include "study/run_cell.hpp"
#include "study/runner.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

#include <fmt/format.h>

#include <iostream>

namespace petlab::cli {
namespace {

struct PlanOptions {
  std::string file;
  bool json = false;
  bool check = false;
};

struct RunOptions {
  std::string file, shard = "0/1";
  int workers = 1;
  bool no_progress = false;
};

/// "I/N", or "slurm" for the job array's SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT.
std::pair<int, int> parse_shard(const std::string& text) {
  if (text == "slurm") {
    const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
    const char* count = std::getenv("SLURM_ARRAY_TASK_COUNT");
    const char* min = std::getenv("SLURM_ARRAY_TASK_MIN");
    if (id == nullptr || count == nullptr)
      throw Error("--shard slurm: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not set (not in a job array?)");
    return {std::stoi(id) - (min != nullptr ? std::stoi(min) : 0), std::stoi(count)};
  }
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument(text);
    return {std::stoi(text.substr(0, slash)), std::stoi(text.substr(slash + 1))};
  } catch (const std::exception&) {
    throw Error(fmt::format("--shard '{}': expected I/N (0 <= I < N) or 'slurm'", text));
  }
}

MethodRegistry load_registry(const GlobalOptions& global) {
  MethodRegistry registry;
  registry.load_directories(plugin_search_path(global.plugin_paths));
  return registry;
}

Plan plan_study(const std::string& file, const GlobalOptions& global) {
  const StudyFile study = read_study_file(file);
  return make_plan(study, load_registry(global));
}

/// `study plan --check`: one line per cell with its trainable parameters, or why its methods do not attach.
void check_study(const std::string& file, const GlobalOptions& global) {
  const MethodRegistry registry = load_registry(global);
  const Plan plan = make_plan(read_study_file(file), registry);
  size_t failed = 0;
  for (const CellCheck& c : check_plan(plan, registry)) {
    if (c.error.empty()) {
      std::cout << fmt::format("  ok   {}  {} trainable ({:.4f}% of the backbone)\n", c.cell, c.count.trainable,
                               c.count.percent_of_backbone());
    } else {
      ++failed;
      std::cout << fmt::format("  FAIL {}  {}\n", c.cell, c.error);
    }
  }
  if (failed) throw Error(fmt::format("{}: {} of {} cells do not attach (see above)", file, failed, plan.cells.size()));
  std::cout << fmt::format("study {}: all {} cells attach\n", plan.study, plan.cells.size());
}

void run_study(const RunOptions& o, const GlobalOptions& global) {
  const Plan plan = plan_study(o.file, global);
  RunnerOptions options;
  options.workers = o.workers;
  std::tie(options.shard_index, options.shard_count) = parse_shard(o.shard);
  options.executable = boost::dll::program_location().string();
  for (const auto& p : global.plugin_paths) options.worker_args.insert(options.worker_args.end(), {"--plugin-path", p});
  options.worker_args.insert(options.worker_args.end(), {"--log-level", global.log_level});
  options.progress = !o.no_progress;
  const RunnerSummary s = run_plan(plan, options);
  std::cout << fmt::format("study {}: {} runs in this shard: {} already done, {} finished, {} diverged, {} failed{}\n",
                           plan.study, s.in_shard, s.already_done, s.finished, s.diverged, s.failed,
                           s.busy_elsewhere ? fmt::format(", {} busy in another runner", s.busy_elsewhere) : "");
  if (s.interrupted) {
    std::cout << "interrupted: run the same command to resume (finished runs are kept)\n";
    throw CLI::RuntimeError(130);
  }
  std::cout << fmt::format("results in {}; next: petlab study report {}\n", plan.output.string(), plan.output.string());
}

void print_plan(const Plan& plan, bool json) {
  if (json) {
    nlohmann::json cells = nlohmann::json::array();
    for (const Cell& c : plan.cells) {
      nlohmann::json j = c.settings();
      j["seeds"] = c.seeds;
      cells.push_back(std::move(j));
    }
    std::cout << nlohmann::json{{"study", plan.study}, {"output", plan.output.string()}, {"cells", cells}}.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("study {}: {} cells, {} runs -> {}\n", plan.study, plan.cells.size(), plan.run_count(),
                           plan.output.string());
  for (const Cell& c : plan.cells)
    std::cout << fmt::format("  {}  {} {} {}{} seeds={}\n", c.id, c.task, c.method_label, c.protocol,
                             c.train_size ? fmt::format(" n={}", *c.train_size) : std::string(), c.seeds.size());
}

}  // namespace

void add_study_command(CLI::App& app, const GlobalOptions& global) {
  auto* study = app.add_subcommand("study", "Plan, run and report PET studies described by TOML files");
  study->require_subcommand(1);
  add_study_report_command(*study);

  auto o = std::make_shared<PlanOptions>();
  auto* plan = study->add_subcommand("plan", "Expand a study file into its cells (stable ids) and seeds");
  plan->add_option("file", o->file, "Study file (TOML)")->required();
  plan->add_flag("--json", o->json, "Print the cells as JSON");
  plan->add_flag("--check", o->check, "Also attach each cell's methods to the backbone and print trainable parameters");
  plan->callback([o, &global] {
    if (o->check) return check_study(o->file, global);
    print_plan(plan_study(o->file, global), o->json);
  });

  auto r = std::make_shared<RunOptions>();
  auto* run = study->add_subcommand("run", "Run every cell of a study in worker processes; resumes where it stopped");
  run->add_option("file", r->file, "Study file (TOML)")->required();
  run->add_option("--workers", r->workers, "Runs at once (each gets cores/N threads)")->capture_default_str()->check(CLI::PositiveNumber);
  run->add_option("--shard", r->shard, "Run only shard I of N (I/N, 0-based), or 'slurm' for a job array's task")
      ->capture_default_str();
  run->add_flag("--no-progress", r->no_progress, "No progress bar");
  run->callback([r, &global] { run_study(*r, global); });

  // The worker `study run` starts for each run; hidden from --help (users run studies, not cells).
  auto spec = std::make_shared<std::string>();
  auto* cell = app.add_subcommand("run-cell", "Run one (cell, seed) of a study from its spec.json");
  cell->group("");
  cell->add_option("spec", *spec, "spec.json written by `petlab study run`")->required()->check(CLI::ExistingFile);
  cell->callback([spec, &global] {
    if (run_cell(*spec, global.plugin_paths) != 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace petlab::cli
