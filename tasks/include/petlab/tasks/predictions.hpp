// Predictions files (`{"id": ..., "prediction": ...}` per line) and scoring them against a split.
#pragma once

#include "petlab/tasks/task.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace petlab::tasks {

/// Reads a predictions JSONL file; fails naming the line on malformed JSON, a missing "id" or
/// "prediction", or an id seen before.
std::vector<std::pair<std::size_t, Prediction>> read_predictions(const std::filesystem::path& path);

/// Puts predictions in the order of `examples`. Fails on an id that is not in the split (naming its line)
/// and on examples left without a prediction (naming how many and the first ids).
std::vector<Prediction> align_predictions(const std::vector<Example>& examples,
                                          const std::vector<std::pair<std::size_t, Prediction>>& predictions,
                                          const std::string& predictions_file, const std::string& split_name);

}  // namespace petlab::tasks
