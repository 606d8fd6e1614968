// A small SVG toolkit for the report's plots: scales with round ticks, a canvas that writes elements,
// axes, row labels and legends. Data never reaches a coordinate unchecked: a non-finite coordinate is a
// bug in the plot code and throws.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace petlab::report::svg {

/// Data to pixels, linear or log10.
struct Scale {
  double lo = 0, hi = 1;    ///< data domain (log: both > 0)
  double from = 0, to = 1;  ///< pixel range
  bool log = false;
  double step = 0.2;        ///< linear tick step
  double operator()(double v) const;
  std::vector<double> ticks() const;
  std::string tick_text(double v) const;
};
/// A linear scale whose ends are round numbers around [lo, hi] (about `target` ticks); a flat range is widened.
/// `pad` widens the data range by that fraction on each side first, so marks do not sit on the frame.
Scale linear(double lo, double hi, double from, double to, int target = 5, double pad = 0.0);
/// A log10 scale over whole decades around [lo, hi].
Scale logarithmic(double lo, double hi, double from, double to);

/// The plot area inside a canvas, in pixels.
struct Frame {
  double left, top, right, bottom;
};

class Canvas {
 public:
  /// `label` is the figure's accessible name (aria-label).
  Canvas(double width, double height, const std::string& label);
  void line(double x1, double y1, double x2, double y2, const std::string& attrs);
  void rect(double x, double y, double w, double h, const std::string& attrs);
  void circle(double cx, double cy, double r, const std::string& attrs);
  /// `content` is plain text (escaped here).
  void text(double x, double y, const std::string& content, const std::string& attrs);
  void polyline(const std::vector<std::pair<double, double>>& points, const std::string& attrs);
  void polygon(const std::vector<std::pair<double, double>>& points, const std::string& attrs);
  /// A group whose children show `tooltip` on hover (an SVG <title>); close with end_group().
  void begin_group(const std::string& tooltip);
  void end_group();
  /// The finished <svg> element.
  std::string str() const;

 private:
  std::string out_;
  double width_, height_;
  std::string label_;
  int open_groups_ = 0;
};

/// A coordinate as SVG text (one decimal). Throws std::logic_error when `v` is not finite.
std::string coord(double v);

/// Grid lines, ticks and tick labels under / left of `frame`, and the axis titles.
void x_axis(Canvas& c, const Frame& frame, const Scale& x, const std::string& title);
void y_axis(Canvas& c, const Frame& frame, const Scale& y, const std::string& title);
/// One label per row at the left of `frame`, centred in rows of height `band`; long labels are shortened
/// (the full text stays in a tooltip).
void row_labels(Canvas& c, const Frame& frame, const std::vector<std::string>& labels, double band);

struct LegendEntry {
  std::string label, color;
  bool band = false;  ///< draw a filled swatch instead of a line
};
/// A vertical legend with its top-left corner at (x, y).
void legend(Canvas& c, double x, double y, const std::vector<LegendEntry>& entries);
double legend_width(const std::vector<LegendEntry>& entries);

/// Approximate rendered width of `text` at `font_size` px in the report's sans-serif font.
double text_width(const std::string& text, double font_size);
/// `text` cut to `max_chars` characters with an ellipsis (UTF-8 aware).
std::string shorten(const std::string& text, std::size_t max_chars);

inline constexpr double kFont = 12;       ///< tick labels, legends
inline constexpr int kMaxLabelChars = 26;  ///< row labels longer than this are shortened

}  // namespace petlab::report::svg
