// Sizes and helpers the plot files share (internal to host/report).
#pragma once

#include "report/svg.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace petlab::report::layout {

inline constexpr double kWidth = 540;        ///< every figure; two fit side by side on a 1200 px page
inline constexpr double kPlotHeight = 300;   ///< x–y plots
inline constexpr double kAxisBelow = 48;     ///< tick labels and the x-axis title under the frame
inline constexpr double kPad = 0.04;         ///< data-range padding of score axes

/// Width of the row-label column for horizontal plots.
inline double label_column(const std::vector<std::string>& labels) {
  double widest = 0;
  for (const auto& l : labels) widest = std::max(widest, svg::text_width(svg::shorten(l, svg::kMaxLabelChars), svg::kFont));
  return widest + 20;
}

/// Height of an x–y plot: the usual one, or more when its legend (at the right of the frame) needs it.
inline double plot_height(std::size_t legend_entries) {
  return std::max(kPlotHeight, 12 + 18.0 * static_cast<double>(legend_entries) + kAxisBelow / 2);
}

/// Left margin of an x–y plot: the y tick labels and the rotated y-axis title.
inline double y_axis_margin(const svg::Scale& y) {
  double widest = 0;
  for (double t : y.ticks()) widest = std::max(widest, svg::text_width(y.tick_text(t), svg::kFont));
  return widest + 34;
}

}  // namespace petlab::report::layout
