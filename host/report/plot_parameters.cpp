// (3) Score vs trainable parameters: each method's mean test score (± std over seeds) at its trainable
// parameter count, on a log axis: the efficiency frontier of the study.
#include "report/cells.hpp"
#include "report/format.hpp"
#include "report/plot_layout.hpp"
#include "report/plots.hpp"

#include <cmath>

namespace petlab::report {

namespace {

bool plottable(const MethodRow& row) {
  return row.score.n > 0 && row.trainable_params && *row.trainable_params > 0;
}

/// The std as an error bar; none for a single seed.
double spread(const MethodRow& row) { return std::isnan(row.score.std) ? 0.0 : row.score.std; }

Figure parameter_plot(const Group& g, const Palette& palette) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  std::vector<svg::LegendEntry> entries;
  for (const MethodRow& row : g.rows) {
    if (!plottable(row)) continue;
    x_lo = std::min(x_lo, *row.trainable_params), x_hi = std::max(x_hi, *row.trainable_params);
    y_lo = std::min(y_lo, row.score.mean - spread(row)), y_hi = std::max(y_hi, row.score.mean + spread(row));
    entries.push_back({row.label, palette.color(row.label)});
  }
  const double height = layout::plot_height(entries.size()), bottom = height - layout::kAxisBelow;
  const svg::Scale y = svg::linear(y_lo, y_hi, bottom, 12, 5, layout::kPad);
  const svg::Frame f{layout::y_axis_margin(y), 12, layout::kWidth - svg::legend_width(entries) - 16, bottom};
  const svg::Scale x = svg::logarithmic(x_lo, x_hi, f.left, f.right);
  svg::Canvas c(layout::kWidth, height, "Test " + g.metric + " vs trainable parameters, " + group_title(g));
  svg::x_axis(c, f, x, "trainable parameters (log scale)");
  svg::y_axis(c, f, y, "test " + g.metric + " (mean \u00b1 std)");
  for (const MethodRow& row : g.rows) {
    if (!plottable(row)) continue;
    const std::string& color = palette.color(row.label);
    const double px = x(*row.trainable_params), py = y(row.score.mean);
    std::string tooltip = row.label + ": " + score_cell(row.score) + " with " + count_label(*row.trainable_params) +
                          " trainable parameters";
    if (row.percent_trainable) tooltip += " (" + general(*row.percent_trainable, 3) + "%)";
    c.begin_group(tooltip);
    if (spread(row) > 0) {
      const double top = y(row.score.mean + spread(row)), low = y(row.score.mean - spread(row));
      const std::string stroke = "stroke=\"" + color + "\" stroke-width=\"1.5\"";
      c.line(px, top, px, low, stroke);
      c.line(px - 4, top, px + 4, top, stroke);
      c.line(px - 4, low, px + 4, low, stroke);
    }
    c.circle(px, py, 5, "fill=\"" + color + "\" stroke=\"#fff\" stroke-width=\"1\"");
    c.end_group();
  }
  svg::legend(c, f.right + 16, f.top, entries);
  return {group_title(g), c.str()};
}

}  // namespace

std::vector<Figure> parameter_plots(const std::vector<Group>& groups, const Palette& palette) {
  std::vector<Figure> out;
  for (const Group& g : groups) {
    bool any = false;
    for (const MethodRow& row : g.rows) any = any || plottable(row);
    if (any) out.push_back(parameter_plot(g, palette));
  }
  return out;
}

}  // namespace petlab::report
