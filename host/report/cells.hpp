// The text of the result tables' cells, shared by report.md and report.html so both say the same.
#pragma once

#include "report/groups.hpp"

#include <string>

namespace petlab::report {

/// "0.9012 ± 0.0031"; "0.9012" for one seed; "—" for none.
std::string score_cell(const Summary& s);
/// Percent of the backbone's parameters that train: "0.65", "100"; "—" when unknown.
std::string percent_cell(const MethodRow& row);
/// The p-value against the baseline ("0.0123"), "baseline" for the baseline row, "—" without one or with
/// fewer than two finished seeds a side.
std::string p_cell(const Group& group, const MethodRow& row);
/// True when the row differs from the baseline at p < 0.05.
bool significant(const MethodRow& row);
/// "glue/sst2 · train_size 2000 · fair".
std::string group_title(const Group& group);

inline constexpr const char* kDash = "\u2014";
inline constexpr double kSignificance = 0.05;

}  // namespace petlab::report
