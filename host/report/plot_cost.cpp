// (4) Cost as Pu & Jain report it: each method's mean run time and peak memory divided by full tuning's in
// the same group (1 = as costly as full tuning). Means over finished runs.
#include "report/cells.hpp"
#include "report/format.hpp"
#include "report/plot_layout.hpp"
#include "report/plots.hpp"

#include <cmath>
#include <optional>

namespace petlab::report {

namespace {

constexpr double kBand = 34;        ///< one method: two bars
constexpr double kBar = 11;
constexpr double kRight = 56;       ///< room for the value right of the longest bar
constexpr double kLegendTop = 26;   ///< the two-entry legend above the frame
const std::string kTimeColor = "#4e79a7", kMemoryColor = "#f28e2b";

std::optional<double> ratio(const std::optional<double>& value, const std::optional<double>& baseline) {
  if (!value || !baseline || !(*baseline > 0) || !std::isfinite(*value)) return std::nullopt;
  return *value / *baseline;
}

struct CostRow {
  const MethodRow* row;
  std::optional<double> time, memory;
};

std::vector<CostRow> cost_rows(const Group& g) {
  std::vector<CostRow> out;
  const MethodRow* base = g.baseline();
  if (!base) return out;
  for (const MethodRow& row : g.rows) {
    CostRow r{&row, ratio(row.wall_time_s, base->wall_time_s), ratio(row.peak_rss_mb, base->peak_rss_mb)};
    if (r.time || r.memory) out.push_back(r);
  }
  return out;
}

void draw_bar(svg::Canvas& c, const svg::Scale& x, double y, double value, const std::string& color,
              const std::string& tooltip) {
  c.begin_group(tooltip);
  c.rect(x(0), y, x(value) - x(0), kBar, "fill=\"" + color + "\"");
  c.text(x(value) + 4, y + kBar - 1.5, general(value, 3) + "\u00d7", "class=\"value\"");
  c.end_group();
}

std::string absolute(const std::optional<double>& v, const std::optional<double>& base, const std::string& unit) {
  return (v ? general(*v, 4) : std::string("?")) + " " + unit + " (full: " + (base ? general(*base, 4) : std::string("?")) +
         " " + unit + ")";
}

Figure cost_plot(const Group& g, const std::vector<CostRow>& rows) {
  const MethodRow& base = *g.baseline();
  std::vector<std::string> labels;
  double hi = 1;
  for (const auto& r : rows) {
    labels.push_back(r.row->label);
    hi = std::max({hi, r.time.value_or(0), r.memory.value_or(0)});
  }
  const double height = kLegendTop + kBand * static_cast<double>(rows.size()) + layout::kAxisBelow;
  const svg::Frame f{layout::label_column(labels), kLegendTop, layout::kWidth - kRight, height - layout::kAxisBelow};
  const svg::Scale x = svg::linear(0, hi, f.left, f.right);
  svg::Canvas c(layout::kWidth, height, "Run time and peak memory relative to full tuning, " + group_title(g));
  svg::x_axis(c, f, x, "relative to full tuning (full = 1)");
  svg::row_labels(c, f, labels, kBand);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double top = f.top + kBand * static_cast<double>(i) + (kBand - 2 * kBar) / 2;
    const auto& r = rows[i];
    if (r.time)
      draw_bar(c, x, top, *r.time, kTimeColor,
               r.row->label + " run time: " + absolute(r.row->wall_time_s, base.wall_time_s, "s"));
    if (r.memory)
      draw_bar(c, x, top + kBar, *r.memory, kMemoryColor,
               r.row->label + " peak memory: " + absolute(r.row->peak_rss_mb, base.peak_rss_mb, "MB"));
  }
  c.line(x(1), f.top - 4, x(1), f.bottom, "class=\"reference\"");
  svg::legend(c, f.left, 2, {{"run time", kTimeColor, true}});
  svg::legend(c, f.left + 110, 2, {{"peak memory (RSS)", kMemoryColor, true}});
  return {group_title(g), c.str()};
}

}  // namespace

std::vector<Figure> cost_plots(const std::vector<Group>& groups) {
  std::vector<Figure> out;
  for (const Group& g : groups) {
    const auto rows = cost_rows(g);
    if (!rows.empty()) out.push_back(cost_plot(g, rows));
  }
  return out;
}

}  // namespace petlab::report
