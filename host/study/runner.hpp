// Runs a plan: every (cell, seed) in its own worker process (`petlab run-cell SPEC`), several at once,
// skipping runs that already have a result.json. A worker that crashes, is killed by the OOM killer or
// exits without a result gets a `failed` result.json and the study goes on. Ctrl-C stops launching,
// interrupts the workers and leaves their runs without a result, so the same command resumes them;
// kill -9 of the runner takes its workers down with it (PR_SET_PDEATHSIG) for the same effect.
#pragma once

#include "study/plan.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace petlab {

struct RunnerOptions {
  int workers = 1;
  int shard_index = 0;  ///< this process runs the runs whose index modulo shard_count is shard_index
  int shard_count = 1;
  std::filesystem::path executable;      ///< the petlab binary that workers run
  std::vector<std::string> worker_args;  ///< global options passed before `run-cell` (--plugin-path ...)
  bool progress = true;                  ///< draw a progress bar on stderr
};

struct RunnerSummary {
  size_t in_shard = 0, already_done = 0, finished = 0, diverged = 0, failed = 0, busy_elsewhere = 0;
  bool interrupted = false;
};

/// The folder of one run: <output>/<cell>/seed-<k>.
std::filesystem::path run_directory(const Plan& plan, const Cell& cell, uint64_t seed);
/// spec.json of one run: the cell's settings plus the seeds and where to write.
nlohmann::json run_spec(const Plan& plan, const Cell& cell, uint64_t seed);

RunnerSummary run_plan(const Plan& plan, const RunnerOptions& options);

}  // namespace petlab
