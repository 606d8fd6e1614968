// Names of the enums and the shared parts of Task.
#include "petlab/tasks/task.hpp"
#include "petlab/tasks/text.hpp"

#include <cmath>

namespace petlab::tasks {

const char* to_string(Format f) {
  switch (f) {
    case Format::classification: return "classification";
    case Format::regression: return "regression";
    case Format::multiple_choice: return "multiple_choice";
    case Format::candidate_ranking: return "candidate_ranking";
    case Format::span_pair: return "span_pair";
    case Format::generation: return "generation";
  }
  return "?";
}

const char* to_string(OfficialSplit s) {
  switch (s) {
    case OfficialSplit::train: return "train";
    case OfficialSplit::dev: return "dev";
    case OfficialSplit::test: return "test";
  }
  return "?";
}

const std::vector<std::string>& TaskInfo::files_for(OfficialSplit s) const {
  static const std::vector<std::string> none;
  for (const auto& [split, names] : files)
    if (split == s) return names;
  return none;
}

int resolve_label(const TaskInfo& info, const Example& example, const Prediction& p) {
  const int classes = static_cast<int>(info.format == Format::multiple_choice ? example.choices.size() : info.labels.size());
  if (p.label) return *p.label >= 0 && *p.label < classes ? *p.label : -1;
  if (p.value && std::floor(*p.value) == *p.value && *p.value >= 0 && *p.value < classes) return static_cast<int>(*p.value);
  if (!p.text) return -1;
  // Generated text is compared exactly after trimming (exact-match accuracy, as Pu & Jain score T5).
  const std::string t = text::strip(*p.text);
  for (int i = 0; i < static_cast<int>(info.labels.size()); ++i) {
    if (t == info.labels[i]) return i;
    if (i < static_cast<int>(info.label_words.size()) && t == info.label_words[i]) return i;
  }
  if (info.format == Format::multiple_choice)
    for (int i = 0; i < static_cast<int>(example.choices.size()); ++i)
      if (t == example.choices[i]) return i;
  return -1;
}

}  // namespace petlab::tasks
