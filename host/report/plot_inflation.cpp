// (5) Fair vs legacy: for each method run under both protocols, how much the legacy protocol (model
// selection on the evaluation set) inflates the reported score: mean(legacy) − mean(fair).
#include "report/cells.hpp"
#include "report/format.hpp"
#include "report/plot_layout.hpp"
#include "report/plots.hpp"

#include <cmath>
#include <map>

namespace petlab::report {

namespace {

constexpr double kBand = 28;
constexpr double kMargin = 64;  ///< room for the value beyond the longest bar, on either side
const std::string kInflated = "#e15759", kDeflated = "#4e79a7";

Figure inflation_plot(const std::string& title, const std::vector<const Inflation*>& rows) {
  std::vector<std::string> labels;
  double lo = 0, hi = 0;
  for (const Inflation* i : rows) {
    labels.push_back(i->label);
    lo = std::min(lo, i->inflation()), hi = std::max(hi, i->inflation());
  }
  const double height = 10 + kBand * static_cast<double>(rows.size()) + layout::kAxisBelow;
  const double left = layout::label_column(labels) + (lo < 0 ? kMargin : 0);
  const svg::Frame f{left, 10, layout::kWidth - kMargin, height - layout::kAxisBelow};
  const svg::Scale x = svg::linear(lo, hi, f.left, f.right);
  svg::Canvas c(layout::kWidth, height, "Score inflation of the legacy protocol, " + title);
  svg::x_axis(c, f, x, "legacy \u2212 fair, test " + rows.front()->metric);
  svg::Frame labels_frame = f;
  labels_frame.left = layout::label_column(labels);
  svg::row_labels(c, labels_frame, labels, kBand);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const Inflation& i = *rows[k];
    const double top = f.top + kBand * static_cast<double>(k) + 6, value = i.inflation();
    const double x0 = x(0), x1 = x(value);
    c.begin_group(i.label + ": legacy " + score_cell(i.legacy) + " (n=" + std::to_string(i.legacy.n) + "), fair " +
                  score_cell(i.fair) + " (n=" + std::to_string(i.fair.n) + ")");
    c.rect(std::min(x0, x1), top, std::abs(x1 - x0), kBand - 12, "fill=\"" + (value >= 0 ? kInflated : kDeflated) + "\"");
    const std::string text = (value >= 0 ? "+" : "\u2212") + fixed(std::abs(value), 4);
    if (value >= 0) c.text(x1 + 4, top + kBand - 16, text, "class=\"value\"");
    else c.text(x1 - 4, top + kBand - 16, text, "class=\"value\" text-anchor=\"end\"");
    c.end_group();
  }
  c.line(x(0), f.top, x(0), f.bottom, "class=\"reference\"");
  return {title, c.str()};
}

}  // namespace

std::vector<Figure> inflation_plots(const std::vector<Inflation>& inflation) {
  std::map<std::pair<std::string, std::string>, std::vector<const Inflation*>> by_task;
  for (const Inflation& i : inflation) {
    // Numbers sort as numbers within a task: zero-padded key, "all" last.
    const std::string size_key = i.train_size ? std::string(20 - std::to_string(*i.train_size).size(), '0') +
                                                    std::to_string(*i.train_size)
                                              : "~";
    by_task[{i.task, size_key}].push_back(&i);
  }
  std::vector<Figure> out;
  for (const auto& [key, rows] : by_task) {
    const std::string title = rows.front()->task + " \u00b7 train_size " + train_size_text(rows.front()->train_size);
    out.push_back(inflation_plot(title, rows));
  }
  return out;
}

}  // namespace petlab::report
