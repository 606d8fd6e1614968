// `petlab data stats`: examples per split, label distribution and text length percentiles.
#pragma once

#include "petlab/tasks/splits.hpp"

#include <nlohmann/json.hpp>

namespace petlab::tasks {

/// Stats of loaded splits as JSON: {"task", "protocol", "files": [{file, split, used, records}],
/// "splits": {name: {"examples", "labels": {name: n}, "words": {p50, p90, p99, max}, "chars": {...}}}}.
nlohmann::json split_stats(const Task& task, const Splits& splits, const SplitOptions& options);
/// The same as aligned text for a terminal.
std::string stats_text(const nlohmann::json& stats);

}  // namespace petlab::tasks
