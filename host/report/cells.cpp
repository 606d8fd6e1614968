#include "report/cells.hpp"

#include "report/format.hpp"

#include <cmath>

namespace petlab::report {

std::string score_cell(const Summary& s) {
  if (s.n == 0) return kDash;
  if (s.n == 1) return fixed(s.mean, 4);
  return fixed(s.mean, 4) + " \u00b1 " + fixed(s.std, 4);
}

std::string percent_cell(const MethodRow& row) {
  return row.percent_trainable ? general(*row.percent_trainable, 3) : kDash;
}

bool significant(const MethodRow& row) {
  return row.vs_baseline && !std::isnan(row.vs_baseline->p) && row.vs_baseline->p < kSignificance;
}

std::string p_cell(const Group& group, const MethodRow& row) {
  if (row.is_baseline() && group.baseline() == &row) return "baseline";
  if (!row.vs_baseline || std::isnan(row.vs_baseline->p)) return kDash;
  return general(row.vs_baseline->p, 3);
}

std::string group_title(const Group& group) {
  return group.task + " \u00b7 train_size " + train_size_text(group.train_size) + " \u00b7 " + group.protocol;
}

}  // namespace petlab::report
