// A study's plan: the grid expanded into cells (task × data scale × protocol × method entry × knob and
// [train] sweeps), each with a stable id derived from its settings, so a re-run, a resumed run and every
// shard of a cluster job array agree on what each cell is and where its results live.
//
// Sweep axes: a [train] value given as a list, and a method knob given as a list when the knob is a
// scalar (bool, int, float, string). A knob that is itself a list (targets) or free JSON (layers) sweeps
// only when written as a table {sweep = [...]}.
#pragma once

#include "study/study_file.hpp"
#include "tuning/tuned_model.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace petlab {

class MethodRegistry;

struct Cell {
  std::string id;                      ///< "sst2-lora-r8-n2000-fair-3f9a2c1b"
  std::string task;                    ///< task id
  std::filesystem::path data;
  std::optional<int64_t> train_size;
  std::string protocol;
  std::string method_label;            ///< "lora r=8"
  std::vector<MethodSpec> methods;     ///< attached together (one, or a stack)
  nlohmann::json train;                ///< resolved [train] settings
  nlohmann::json backbone;             ///< {model, device, dtype, max_length}
  std::vector<uint64_t> seeds;

  /// Everything that defines the cell, as one JSON object (spec.json, minus the seed).
  nlohmann::json settings() const;
};

struct Plan {
  std::string study;
  std::filesystem::path output;        ///< <output>/<study>
  std::vector<Cell> cells;
  size_t run_count() const;
};

/// Expands `study` into cells and checks what reading could not: the model folder has a config.json, each
/// data folder exists, task and method ids are known, knob names and types fit. Errors name file:line and key.
Plan make_plan(const StudyFile& study, const MethodRegistry& registry);

}  // namespace petlab
