// (1) Stability: each finished seed's test score as a dot, over a box from the first to the third quartile
// (median line) with whiskers to the min and max.
#include "report/cells.hpp"
#include "report/format.hpp"
#include "report/plot_layout.hpp"
#include "report/plots.hpp"

#include <cmath>

namespace petlab::report {

namespace {

constexpr double kBand = 32;   ///< height of one method's row
constexpr double kRight = 76;  ///< room for the "n=5 ✕1" note right of the frame

void draw_row(svg::Canvas& c, const svg::Scale& x, const MethodRow& row, double cy, const std::string& color) {
  const auto& s = row.score;
  if (s.n >= 2) {
    const double q1 = quantile(row.scores, 0.25), median = quantile(row.scores, 0.5), q3 = quantile(row.scores, 0.75);
    c.begin_group(row.label + ": min " + fixed(s.min, 4) + ", Q1 " + fixed(q1, 4) + ", median " + fixed(median, 4) +
                  ", Q3 " + fixed(q3, 4) + ", max " + fixed(s.max, 4));
    const std::string stroke = "stroke=\"" + color + "\" stroke-width=\"1.5\"";
    c.line(x(s.min), cy, x(q1), cy, stroke);
    c.line(x(q3), cy, x(s.max), cy, stroke);
    c.line(x(s.min), cy - 5, x(s.min), cy + 5, stroke);
    c.line(x(s.max), cy - 5, x(s.max), cy + 5, stroke);
    c.rect(x(q1), cy - 8, x(q3) - x(q1), 16, "fill=\"" + color + "\" fill-opacity=\"0.18\" " + stroke);
    c.line(x(median), cy - 8, x(median), cy + 8, "stroke=\"" + color + "\" stroke-width=\"2.5\"");
    c.end_group();
  }
  // Dots spread vertically in a fixed pattern so equal scores stay visible.
  std::size_t i = 0;
  for (const Run* run : row.runs) {
    if (run->status != RunStatus::finished || !run->test) continue;
    const double jitter = static_cast<double>(static_cast<int>((i++ * 5) % 9) - 4) * 1.6;
    c.begin_group(row.label + ", seed " + std::to_string(run->seed) + ": " + fixed(*run->test, 4));
    c.circle(x(*run->test), cy + jitter, 3.5, "fill=\"" + color + "\" stroke=\"#fff\" stroke-width=\"0.8\"");
    c.end_group();
  }
}

void draw_note(svg::Canvas& c, const svg::Frame& f, const MethodRow& row, double cy) {
  c.text(f.right + 10, cy + 4, "n=" + std::to_string(row.score.n), "class=\"note\"");
  const int unfinished = row.diverged + row.failed;
  if (unfinished == 0) return;
  c.begin_group(std::to_string(row.diverged) + " diverged, " + std::to_string(row.failed) + " failed");
  c.text(f.right + 42, cy + 4, "\u2715" + std::to_string(unfinished), "class=\"note bad\"");
  c.end_group();
}

Figure stability_plot(const Group& g, const Palette& palette) {
  std::vector<std::string> labels;
  double lo = INFINITY, hi = -INFINITY;
  for (const MethodRow& row : g.rows) {
    labels.push_back(row.label);
    for (double v : row.scores) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const double height = 10 + kBand * static_cast<double>(labels.size()) + layout::kAxisBelow;
  const svg::Frame f{layout::label_column(labels), 10, layout::kWidth - kRight, height - layout::kAxisBelow};
  const svg::Scale x = svg::linear(lo, hi, f.left, f.right, 5, layout::kPad);
  svg::Canvas c(layout::kWidth, height, "Test " + g.metric + " over seeds, " + group_title(g));
  svg::x_axis(c, f, x, "test " + g.metric);
  svg::row_labels(c, f, labels, kBand);
  for (std::size_t i = 0; i < g.rows.size(); ++i) {
    const double cy = f.top + kBand * (static_cast<double>(i) + 0.5);
    const MethodRow& row = g.rows[i];
    if (row.score.n == 0) c.text(f.left + 8, cy + 4, "no finished seed", "class=\"note\"");
    else draw_row(c, x, row, cy, palette.color(row.label));
    draw_note(c, f, row, cy);
  }
  return {group_title(g), c.str()};
}

}  // namespace

std::vector<Figure> stability_plots(const std::vector<Group>& groups, const Palette& palette) {
  std::vector<Figure> out;
  for (const Group& g : groups) {
    bool any = false;
    for (const MethodRow& row : g.rows) any = any || row.score.n > 0;
    if (any) out.push_back(stability_plot(g, palette));
  }
  return out;
}

}  // namespace petlab::report
