// Number and text formatting shared by the report writers (no fmt: the report code builds without LibTorch).
#pragma once

#include <string>
#include <string_view>

namespace petlab::report {

/// The shortest text that reads back as exactly `v` (summary.csv keeps full precision): fixed notation
/// for 1e-4 <= |v| < 1e16, scientific outside.
std::string shortest(double v);
/// `v` with `decimals` digits after the point ("0.9012").
std::string fixed(double v, int decimals);
/// `v` with `digits` significant digits, printf %g style ("0.0123", "1.2e-05").
std::string general(double v, int digits);
/// A parameter count for people: 950, 12.3k, 1.5M, 110M.
std::string count_label(double v);
/// Text escaped for XML/HTML content and attribute values.
std::string xml_escape(std::string_view text);

}  // namespace petlab::report
