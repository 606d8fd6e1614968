// The report's figures, one SVG per group (task × train_size × protocol) that has data for the plot.
// Each function returns nothing when no group has data; the page then says so.
#pragma once

#include "report/groups.hpp"

#include <map>
#include <string>
#include <vector>

namespace petlab::report {

/// A colour per method label, the same in every figure; the full-tuning baseline is dark grey.
class Palette {
 public:
  explicit Palette(const std::vector<Group>& groups);
  const std::string& color(const std::string& label) const;

 private:
  std::map<std::string, std::string> colors_;
};

struct Figure {
  std::string title;  ///< the group it shows
  std::string svg;    ///< one <svg> element
};

/// (1) Stability: test scores over seeds per method, dots with box (quartiles) and min–max whiskers.
std::vector<Figure> stability_plots(const std::vector<Group>& groups, const Palette& palette);
/// (2) Convergence: dev metric vs step per method, mean over seeds with a min–max band.
std::vector<Figure> convergence_plots(const std::vector<Group>& groups, const Palette& palette);
/// (3) Mean test score (± std) vs trainable parameters, log x.
std::vector<Figure> parameter_plots(const std::vector<Group>& groups, const Palette& palette);
/// (4) Run time and peak memory of each method divided by full tuning's (groups with a baseline).
std::vector<Figure> cost_plots(const std::vector<Group>& groups);
/// (5) legacy − fair mean score per method, per task × train_size.
std::vector<Figure> inflation_plots(const std::vector<Inflation>& inflation);

}  // namespace petlab::report
