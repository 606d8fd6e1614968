#include "report/format.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace petlab::report {

std::string shortest(double v) {
  // Plain digits where people expect them (0.0005, 312.5), exponents only for the very small or large,
  // as Python's repr does.
  const double a = std::abs(v);
  const auto format = (a == 0 || (a >= 1e-4 && a < 1e16)) ? std::chars_format::fixed : std::chars_format::scientific;
  char buf[400];
  const auto result = std::to_chars(buf, buf + sizeof buf, v, format);
  return std::string(buf, result.ptr);
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string general(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string count_label(double v) {
  const double a = std::abs(v);
  // Three significant digits at most, trailing zeros dropped by %g.
  if (a >= 1e9) return general(v / 1e9, 3) + "G";
  if (a >= 1e6) return general(v / 1e6, 3) + "M";
  if (a >= 1e3) return general(v / 1e3, 3) + "k";
  return general(v, 3);
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace petlab::report
