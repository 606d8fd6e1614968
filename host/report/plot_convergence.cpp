// (2) Convergence: the dev metric against the training step, per method: the mean over the seeds evaluated
// at that step as a line, their min–max as a band. Diverged runs count until they stopped.
#include "report/cells.hpp"
#include "report/format.hpp"
#include "report/plot_layout.hpp"
#include "report/plots.hpp"

#include <cmath>
#include <map>

namespace petlab::report {

namespace {

struct CurveStats {
  long long step;
  Summary dev;
};

/// Per step, the dev values of every run of the row that was evaluated there.
std::vector<CurveStats> curve_stats(const MethodRow& row) {
  std::map<long long, std::vector<double>> by_step;
  for (const Run* run : row.runs)
    for (const CurvePoint& p : run->curve)
      if (std::isfinite(p.dev)) by_step[p.step].push_back(p.dev);
  std::vector<CurveStats> out;
  for (const auto& [step, values] : by_step) out.push_back({step, summarize(values)});
  return out;
}

Figure convergence_plot(const Group& g, const Palette& palette) {
  std::vector<std::pair<const MethodRow*, std::vector<CurveStats>>> curves;
  double lo = INFINITY, hi = -INFINITY, last_step = 0;
  for (const MethodRow& row : g.rows) {
    auto stats = curve_stats(row);
    if (stats.empty()) continue;
    for (const auto& s : stats) {
      lo = std::min(lo, s.dev.min), hi = std::max(hi, s.dev.max);
      last_step = std::max(last_step, static_cast<double>(s.step));
    }
    curves.emplace_back(&row, std::move(stats));
  }
  std::vector<svg::LegendEntry> entries;
  for (const auto& [row, stats] : curves) entries.push_back({row->label, palette.color(row->label)});
  entries.push_back({"min\u2013max over seeds", "#999", true});

  const double height = layout::plot_height(entries.size()), bottom = height - layout::kAxisBelow;
  const svg::Scale y = svg::linear(lo, hi, bottom, 12, 5, layout::kPad);
  const svg::Frame f{layout::y_axis_margin(y), 12, layout::kWidth - svg::legend_width(entries) - 16, bottom};
  const svg::Scale x = svg::linear(0, last_step, f.left, f.right);
  svg::Canvas c(layout::kWidth, height, "Dev " + g.metric + " vs step, " + group_title(g));
  svg::x_axis(c, f, x, "step");
  svg::y_axis(c, f, y, "dev " + g.metric);
  for (const auto& [row, stats] : curves) {
    const std::string& color = palette.color(row->label);
    std::vector<std::pair<double, double>> band, mean;
    for (const auto& s : stats) band.emplace_back(x(static_cast<double>(s.step)), y(s.dev.max));
    for (auto it = stats.rbegin(); it != stats.rend(); ++it)
      band.emplace_back(x(static_cast<double>(it->step)), y(it->dev.min));
    for (const auto& s : stats) mean.emplace_back(x(static_cast<double>(s.step)), y(s.dev.mean));
    double best = -INFINITY;
    for (const auto& s : stats) best = std::max(best, s.dev.mean);
    c.begin_group(row->label + ": best mean dev " + g.metric + " " + fixed(best, 4));
    if (stats.size() > 1) {
      c.polygon(band, "fill=\"" + color + "\" fill-opacity=\"0.15\" stroke=\"none\"");
      c.polyline(mean, "fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\" stroke-linejoin=\"round\"");
    } else {
      c.line(mean[0].first, band[0].second, mean[0].first, band[1].second, "stroke=\"" + color + "\" stroke-width=\"1.5\"");
      c.circle(mean[0].first, mean[0].second, 3.5, "fill=\"" + color + "\"");
    }
    c.end_group();
  }
  svg::legend(c, f.right + 16, f.top, entries);
  return {group_title(g), c.str()};
}

}  // namespace

std::vector<Figure> convergence_plots(const std::vector<Group>& groups, const Palette& palette) {
  std::vector<Figure> out;
  for (const Group& g : groups) {
    bool any = false;
    for (const MethodRow& row : g.rows)
      for (const Run* run : row.runs) any = any || !run->curve.empty();
    if (any) out.push_back(convergence_plot(g, palette));
  }
  return out;
}

}  // namespace petlab::report
