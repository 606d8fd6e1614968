#include "report/svg.hpp"

#include "report/format.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace petlab::report::svg {

namespace {

std::size_t code_points(const std::string& text) {
  return std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string points_text(const std::vector<std::pair<double, double>>& points) {
  std::string out;
  for (const auto& [x, y] : points) out += (out.empty() ? "" : " ") + coord(x) + "," + coord(y);
  return out;
}

}  // namespace

double Scale::operator()(double v) const {
  const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  return from + t * (to - from);
}

std::vector<double> Scale::ticks() const {
  std::vector<double> out;
  if (log) {
    const int first = static_cast<int>(std::lround(std::log10(lo))), last = static_cast<int>(std::lround(std::log10(hi)));
    const bool fine = last - first <= 2;  // few decades: label 2× and 5× too
    for (int k = first; k <= last; ++k) {
      const double decade = std::pow(10.0, k);
      for (double m : {1.0, 2.0, 5.0}) {
        if (m != 1.0 && !fine) continue;
        if (decade * m <= hi * (1 + 1e-9)) out.push_back(decade * m);
      }
    }
    return out;
  }
  const long long first = std::llround(std::ceil(lo / step - 1e-9)), last = std::llround(std::floor(hi / step + 1e-9));
  for (long long k = first; k <= last; ++k) out.push_back(static_cast<double>(k) * step);
  return out;
}

std::string Scale::tick_text(double v) const {
  if (log) return count_label(v);
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  std::string s = fixed(v, decimals);
  if (s.find_first_not_of("-0.") == std::string::npos && s.starts_with("-")) s.erase(0, 1);  // no "-0.00"
  return s;
}

Scale linear(double lo, double hi, double from, double to, int target, double pad) {
  if (!(hi > lo)) {
    const double room = lo != 0 ? std::abs(lo) * 0.05 : 1.0;
    lo -= room;
    hi += room;
  }
  const double room = (hi - lo) * pad;
  lo -= room;
  hi += room;
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double ratio = raw / magnitude;
  const double nice = ratio < 1.5 ? 1 : ratio < 3 ? 2 : ratio < 7 ? 5 : 10;
  Scale s;
  s.step = nice * magnitude;
  s.lo = std::floor(lo / s.step + 1e-9) * s.step;
  s.hi = std::ceil(hi / s.step - 1e-9) * s.step;
  s.from = from;
  s.to = to;
  return s;
}

Scale logarithmic(double lo, double hi, double from, double to) {
  Scale s;
  s.log = true;
  // A tenth of a decade of room, so a point on a power of ten does not sit on the frame.
  const double first = std::floor(std::log10(lo) - 0.1), last = std::ceil(std::log10(hi) + 0.1);
  s.lo = std::pow(10.0, first);
  s.hi = std::pow(10.0, last > first ? last : first + 1);
  s.from = from;
  s.to = to;
  return s;
}

std::string coord(double v) {
  if (!std::isfinite(v)) throw std::logic_error("report plot: a non-finite coordinate");
  std::string s = fixed(v, 1);
  if (s == "-0.0") s = "0.0";
  return s;
}

Canvas::Canvas(double width, double height, const std::string& label)
    : width_(width), height_(height), label_(label) {
  out_ = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + coord(width) + "\" height=\"" + coord(height) +
         "\" viewBox=\"0 0 " + coord(width) + " " + coord(height) + "\" role=\"img\" aria-label=\"" +
         xml_escape(label) + "\">\n";
}

void Canvas::line(double x1, double y1, double x2, double y2, const std::string& attrs) {
  out_ += "<line x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" + coord(y2) + "\" " +
          attrs + "/>\n";
}

void Canvas::rect(double x, double y, double w, double h, const std::string& attrs) {
  out_ += "<rect x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" width=\"" + coord(std::max(w, 0.0)) + "\" height=\"" +
          coord(std::max(h, 0.0)) + "\" " + attrs + "/>\n";
}

void Canvas::circle(double cx, double cy, double r, const std::string& attrs) {
  out_ += "<circle cx=\"" + coord(cx) + "\" cy=\"" + coord(cy) + "\" r=\"" + coord(r) + "\" " + attrs + "/>\n";
}

void Canvas::text(double x, double y, const std::string& content, const std::string& attrs) {
  out_ += "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" " + attrs + ">" + xml_escape(content) + "</text>\n";
}

void Canvas::polyline(const std::vector<std::pair<double, double>>& points, const std::string& attrs) {
  out_ += "<polyline points=\"" + points_text(points) + "\" " + attrs + "/>\n";
}

void Canvas::polygon(const std::vector<std::pair<double, double>>& points, const std::string& attrs) {
  out_ += "<polygon points=\"" + points_text(points) + "\" " + attrs + "/>\n";
}

void Canvas::begin_group(const std::string& tooltip) {
  out_ += "<g><title>" + xml_escape(tooltip) + "</title>\n";
  ++open_groups_;
}

void Canvas::end_group() {
  if (open_groups_ == 0) throw std::logic_error("report plot: end_group without begin_group");
  out_ += "</g>\n";
  --open_groups_;
}

std::string Canvas::str() const {
  if (open_groups_ != 0) throw std::logic_error("report plot: a group was left open");
  return out_ + "</svg>";
}

void x_axis(Canvas& c, const Frame& f, const Scale& x, const std::string& title) {
  for (double t : x.ticks()) {
    const double px = x(t);
    c.line(px, f.top, px, f.bottom, "class=\"grid\"");
    c.line(px, f.bottom, px, f.bottom + 5, "class=\"axis\"");
    c.text(px, f.bottom + 18, x.tick_text(t), "class=\"tick\" text-anchor=\"middle\"");
  }
  c.line(f.left, f.bottom, f.right, f.bottom, "class=\"axis\"");
  c.text((f.left + f.right) / 2, f.bottom + 36, title, "class=\"axis-title\" text-anchor=\"middle\"");
}

void y_axis(Canvas& c, const Frame& f, const Scale& y, const std::string& title) {
  double widest = 0;
  for (double t : y.ticks()) {
    const double py = y(t);
    c.line(f.left, py, f.right, py, "class=\"grid\"");
    c.line(f.left - 5, py, f.left, py, "class=\"axis\"");
    c.text(f.left - 8, py + 4, y.tick_text(t), "class=\"tick\" text-anchor=\"end\"");
    widest = std::max(widest, text_width(y.tick_text(t), kFont));
  }
  c.line(f.left, f.top, f.left, f.bottom, "class=\"axis\"");
  const double tx = f.left - widest - 18, ty = (f.top + f.bottom) / 2;
  c.text(tx, ty, title,
         "class=\"axis-title\" text-anchor=\"middle\" transform=\"rotate(-90 " + coord(tx) + " " + coord(ty) + ")\"");
}

void row_labels(Canvas& c, const Frame& f, const std::vector<std::string>& labels, double band) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double y = f.top + band * (static_cast<double>(i) + 0.5) + 4;
    const std::string shown = shorten(labels[i], kMaxLabelChars);
    if (shown != labels[i]) c.begin_group(labels[i]);
    c.text(f.left - 8, y, shown, "class=\"row-label\" text-anchor=\"end\"");
    if (shown != labels[i]) c.end_group();
  }
}

void legend(Canvas& c, double x, double y, const std::vector<LegendEntry>& entries) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const double row = y + 18.0 * static_cast<double>(i);
    const auto& e = entries[i];
    if (e.band) c.rect(x, row + 3, 18, 10, "fill=\"" + e.color + "\"");
    else c.line(x, row + 8, x + 18, row + 8, "stroke=\"" + e.color + "\" stroke-width=\"3\"");
    c.text(x + 24, row + 12, shorten(e.label, kMaxLabelChars), "class=\"legend\"");
  }
}

double legend_width(const std::vector<LegendEntry>& entries) {
  double widest = 0;
  for (const auto& e : entries) widest = std::max(widest, text_width(shorten(e.label, kMaxLabelChars), kFont));
  return 24 + widest + 6;
}

double text_width(const std::string& text, double font_size) {
  return 0.6 * font_size * static_cast<double>(code_points(text));
}

std::string shorten(const std::string& text, std::size_t max_chars) {
  if (code_points(text) <= max_chars) return text;
  std::string out;
  std::size_t kept = 0;
  for (char c : text) {
    const bool starts_code_point = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (starts_code_point && ++kept == max_chars) break;
    out += c;
  }
  return out + "\u2026";
}

}  // namespace petlab::report::svg
