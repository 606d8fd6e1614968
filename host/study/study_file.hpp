// A study file (TOML): backbone × tasks × methods and their knobs × data scales × protocols × seeds. Reading
// it checks syntax, keys and types, naming the file, line and key of any mistake; what needs the outside
// world (model and data folders, method and task ids, knob names) is checked when the plan is made.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace petlab {

/// "study.toml:12:3" for a key, so every later error can point at its line.
struct SourceLocation {
  std::filesystem::path file;
  int64_t line = 0, column = 0;
  std::string to_string() const;
};

/// One method of a [[methods]] entry (an entry with `stack` composes several).
struct StudyMethod {
  std::string id;
  nlohmann::json knobs = nlohmann::json::object();  ///< as written: values, or axes to expand (see plan.hpp)
  SourceLocation where;
  std::map<std::string, SourceLocation> knob_where;
};

/// One [[methods]] entry: what a cell attaches.
struct StudyMethodEntry {
  std::string label;                   ///< `label`, or the method ids joined with '+'
  std::vector<StudyMethod> stack;      ///< one method, or several composed (`stack = [...]`)
  nlohmann::json train = nlohmann::json::object();  ///< per-method [train] overrides
  SourceLocation where;
};

struct StudyTask {
  std::string id;                      ///< "glue/sst2"
  std::filesystem::path data;          ///< the task's data folder
  std::vector<std::optional<int64_t>> train_sizes;  ///< data scales; nullopt = the whole training set
  SourceLocation where, data_where;
};

struct StudyBackbone {
  std::filesystem::path model;
  std::string device = "cpu", dtype = "fp32";
  int64_t max_length = 128;
  SourceLocation where;
};

struct StudyFile {
  std::filesystem::path path;
  std::string name;
  std::filesystem::path output;        ///< runs go to <output>/<name>/<cell>/seed-<k>/
  std::vector<uint64_t> seeds;
  std::vector<std::string> protocols;  ///< "fair" | "legacy"
  StudyBackbone backbone;
  std::vector<StudyTask> tasks;
  std::vector<StudyMethodEntry> methods;
  nlohmann::json train = nlohmann::json::object();  ///< [train] defaults (see train_settings.hpp)
};

/// Reads and checks a study file. Relative paths are relative to the file's folder; "${name}" in a path is
/// replaced by [paths].name (or one from the file named by [paths].include), or the environment variable of
/// that name. Throws petlab::Error naming the
/// file:line:column and the key for syntax errors, unknown keys (with the nearest valid one), wrong types
/// and empty grids.
StudyFile read_study_file(const std::filesystem::path& file);

}  // namespace petlab
