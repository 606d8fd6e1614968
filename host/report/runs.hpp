// The runs of a study folder: every `<cell>/seed-<k>/result.json` under DIR (merged shards are just more
// folders), read and checked against the trainer's fixed schema, with their dev curves.
#pragma once

#include "core/error.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace petlab::report {

enum class RunStatus { finished, diverged, failed };
const char* to_string(RunStatus status);

/// One dev evaluation of a run's curve.jsonl: the run's metric at `step`.
struct CurvePoint {
  long long step = 0;
  double dev = 0;
};

struct Run {
  std::filesystem::path dir;  ///< the seed folder
  std::string study, cell, task, metric, method, method_label, protocol, error;
  std::optional<long long> train_size;  ///< nullopt: the whole training set
  long long seed = 0;
  RunStatus status = RunStatus::finished;
  std::optional<double> dev, test;  ///< best_dev[metric] and test[metric] (legacy: dev of the best step)
  std::optional<long long> trainable_params, steps, steps_to_best;
  std::optional<double> percent_trainable, wall_time_s, tokens_per_s, peak_rss_mb;
  /// spec.json's "backbone" and "train" settings flattened to "backbone.dtype", "train.learning_rate", ...
  std::map<std::string, std::string> settings;
  std::vector<CurvePoint> curve;  ///< dev evaluations only, in file order
};

/// A file that could not be used, and why (the message names the key or the parse error, not the file).
struct Problem {
  std::filesystem::path file;
  std::string message;
};

/// A run file that does not follow the schema; what() is "FILE: MESSAGE".
class RunFileError : public Error {
 public:
  RunFileError(std::filesystem::path file, const std::string& message)
      : Error(file.string() + ": " + message), problem{std::move(file), message} {}
  Problem problem;
};

struct StudyRuns {
  std::filesystem::path dir;
  std::vector<Run> runs;                          ///< sorted by folder
  /// Runs without a result.json: a started seed folder, or a cell that plan.json lists and no folder holds.
  std::vector<Problem> pending;
  std::vector<Problem> skipped;                   ///< result.json files left out of the report
  std::vector<Problem> warnings;                  ///< spec.json / curve.jsonl problems; the run is kept
};

/// Walks `dir`. Throws petlab::Error when `dir` is not a folder; never for a bad run file (see skipped).
StudyRuns collect_runs(const std::filesystem::path& dir);

/// Reads one result.json (and the spec.json / curve.jsonl beside it). Throws RunFileError naming the
/// file and the key when it does not follow the schema.
Run read_run(const std::filesystem::path& result_file, std::vector<Problem>& warnings);

}  // namespace petlab::report
