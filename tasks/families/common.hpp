// Helpers the task families share (internal to petlab_tasks).
#pragma once

#include "petlab/tasks/error.hpp"
#include "petlab/tasks/readers.hpp"
#include "petlab/tasks/task.hpp"

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace petlab::tasks::family {

/// Index of `raw` among a label column's accepted values; fails listing them.
int parse_label(const std::string& raw, const std::vector<std::string>& values, const Where& where,
                const std::string& column);

/// Fails on an id seen before in the same file, naming both lines.
class IdChecker {
 public:
  void add(const std::string& id, const Where& where);

 private:
  std::unordered_map<std::string, std::size_t> first_line_;
};

bool has_extension(const std::filesystem::path& p, const char* ext);

/// Computes metrics by name from class labels: accuracy, f1, mcc, macro_f1 and "combined" (the mean of
/// the other listed metrics), in percent.
Scores label_scores(const std::vector<std::string>& names, const std::vector<int>& truth, const std::vector<int>& predicted);

/// The standard scorer of classification-like tasks: truth from Example::label, predictions resolved
/// through resolve_label (an unknown label word counts as wrong).
std::function<Scores(const std::vector<Example>&, const std::vector<Prediction>&)> label_scorer(const TaskInfo& info);

/// The prediction as a number (regression); fails naming the id when it is not one.
double prediction_number(const Prediction& p);
/// The prediction as text (generation, ReCoRD); a number is printed back as text.
std::string prediction_text(const Prediction& p);

/// Requires every example to carry a label (for scoring).
void require_labelled(const std::vector<Example>& examples);

/// Records of a JSONL / JSON-list / CSV-with-header / TSV file as the families count them.
std::size_t count_jsonl(const std::filesystem::path& p);
std::size_t count_json_list(const std::filesystem::path& p);

/// Python-style code-point slice [begin, end) of UTF-8 text; fails naming the offsets when out of range.
std::string slice_code_points(const std::string& s, long long begin, long long end, const Where& where,
                              const std::string& what);

}  // namespace petlab::tasks::family

namespace petlab::tasks::family {
/// Fills "{0}", "{1}", ... in a T5 template with the example's texts.
std::string render(const std::string& pattern, const std::vector<std::string>& texts);
}  // namespace petlab::tasks::family
