// A task: what it is (ids, fields, labels, metrics, files), how to read its files into examples, how to
// render an example for T5, and how to score predictions. Families (glue.cpp, superglue.cpp, ...) build
// Task values; the registry holds them.
#pragma once

#include "petlab/tasks/error.hpp"
#include "petlab/tasks/example.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace petlab::tasks {

/// The splits as distributed (before a protocol re-splits them).
enum class OfficialSplit { train, dev, test };
const char* to_string(OfficialSplit s);

struct TaskInfo {
  std::string id;                        ///< "glue/rte"
  std::string family;                    ///< "glue"
  std::string description;
  Format format = Format::classification;
  std::vector<std::string> text_fields;  ///< names of Example::texts, in order
  std::vector<std::string> labels;       ///< class names in index order (empty: regression, generation)
  std::vector<std::string> label_words;  ///< T5 target word per class
  std::vector<std::string> metrics;      ///< reported by score(), the main one first
  /// Candidate file names per official split, in order of preference (first existing wins); the
  /// canonical distribution's names first, then HF `datasets` JSONL exports.
  std::vector<std::pair<OfficialSplit, std::vector<std::string>>> files;

  const std::vector<std::string>& files_for(OfficialSplit s) const;
};

/// A model's output for one example, as read from a predictions file or handed over by a trainer.
struct Prediction {
  std::string id;
  std::optional<int> label;           ///< a class / choice index (JSON integer or boolean)
  std::optional<double> value;        ///< a number (regression)
  std::optional<std::string> text;    ///< generated text or a label name / label word
};

/// Metric name -> value (percent for rates, x100 for correlations; BLEU on its 0-100 scale), main first.
using Scores = std::vector<std::pair<std::string, double>>;

struct Task {
  TaskInfo info;
  /// Reads one file of the task; fails with a DataError naming file and line on any bad input.
  std::function<std::vector<Example>(const std::filesystem::path&)> read;
  /// Records in one of the task's files as its format counts them (TSV/CSV data rows, JSONL lines,
  /// JSON list elements): MultiRC counts passages, E2E one row per reference.
  std::function<std::size_t(const std::filesystem::path&)> count_records;
  std::function<TextToText(const Example&)> to_text;
  /// Scores predictions aligned with examples (same order, same length).
  std::function<Scores(const std::vector<Example>&, const std::vector<Prediction>&)> score;

};

/// The class a prediction names: its index, or a label name / label word / choice text (trimmed, exact);
/// -1 when it names none (an unknown word counts as a wrong answer).
int resolve_label(const TaskInfo& info, const Example& example, const Prediction& p);

}  // namespace petlab::tasks
