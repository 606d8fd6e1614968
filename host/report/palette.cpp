#include "report/plots.hpp"

namespace petlab::report {

namespace {
// Tableau 10: distinct at a glance, and readable on white.
const std::vector<std::string> kColors = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
const std::string kBaselineColor = "#3b3b3b";
}  // namespace

Palette::Palette(const std::vector<Group>& groups) {
  std::size_t next = 0;
  for (const Group& g : groups) {
    for (const MethodRow& row : g.rows) {
      if (row.is_baseline()) colors_.emplace(row.label, kBaselineColor);
    }
  }
  for (const std::string& label : method_labels(groups)) {
    if (!colors_.count(label)) colors_.emplace(label, kColors[next++ % kColors.size()]);
  }
}

const std::string& Palette::color(const std::string& label) const {
  auto it = colors_.find(label);
  return it == colors_.end() ? kBaselineColor : it->second;
}

}  // namespace petlab::report
