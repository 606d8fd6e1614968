#include "report/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace petlab::report {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The continued fraction of I_x(a, b) (without its prefactor x^a (1-x)^b / (a B(a, b))), evaluated with
/// the modified Lentz method. It converges fast for x < (a + 1) / (a + b + 2); the caller uses the symmetry
/// I_x(a, b) = 1 - I_{1-x}(b, a) otherwise.
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEpsilon = 1e-16;
  constexpr int kMaxTerms = 10000;
  auto guard = [](double v) { return std::abs(v) < kTiny ? kTiny : v; };
  double c = 1.0;
  double d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
  double h = d;
  for (int m = 1; m <= kMaxTerms; ++m) {
    // Even term d_{2m}, then odd term d_{2m+1} of the fraction 1 / (1 + d_1 / (1 + d_2 / (1 + ...))).
    const double even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    d = 1.0 / guard(1.0 + even * d);
    c = guard(1.0 + even / c);
    h *= d * c;
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    d = 1.0 / guard(1.0 + odd * d);
    c = guard(1.0 + odd / c);
    const double step = d * c;
    h *= step;
    if (std::abs(step - 1.0) < kEpsilon) return h;
  }
  throw std::runtime_error("incomplete beta: the continued fraction did not converge");
}

double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

/// Sample variance (ddof = 1) around `mean`.
double variance_of(const std::vector<double>& v, double mean) {
  double sum = 0;
  for (double x : v) sum += (x - mean) * (x - mean);
  return sum / static_cast<double>(v.size() - 1);
}

}  // namespace

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) {
    s.mean = s.std = s.min = s.max = kNaN;
    return s;
  }
  s.mean = mean_of(values);
  s.std = values.size() < 2 ? kNaN : std::sqrt(variance_of(values, s.mean));
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min = *lo;
  s.max = *hi;
  return s;
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const auto above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return values[below] + fraction * (values[above] - values[below]);
}

double regularized_incomplete_beta(double a, double b, double x, double one_minus_x) {
  if (!(a > 0) || !(b > 0) || std::isnan(x)) return kNaN;
  if (x <= 0) return 0.0;
  if (one_minus_x <= 0) return 1.0;
  const double log_beta = std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  const double prefactor = std::exp(a * std::log(x) + b * std::log(one_minus_x) - log_beta);
  if (x < (a + 1.0) / (a + b + 2.0)) return prefactor * beta_continued_fraction(a, b, x) / a;
  return 1.0 - prefactor * beta_continued_fraction(b, a, one_minus_x) / b;
}

double student_t_cdf(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  // P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2).
  const double t2 = t * t;
  const double tail_both = regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2));
  return t > 0 ? 1.0 - tail_both / 2.0 : tail_both / 2.0;
}

WelchTest welch_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  WelchTest w;
  if (a.size() < 2 || b.size() < 2) return {kNaN, kNaN, kNaN};
  const double mean_a = mean_of(a), mean_b = mean_of(b);
  const double se2_a = variance_of(a, mean_a) / static_cast<double>(a.size());
  const double se2_b = variance_of(b, mean_b) / static_cast<double>(b.size());
  const double se2 = se2_a + se2_b;
  const double difference = mean_a - mean_b;
  if (se2 == 0) {
    // scipy's convention for two constant samples: df = 1, the statistic is ±inf or NaN.
    if (difference == 0) return {kNaN, 1.0, kNaN};
    return {difference > 0 ? INFINITY : -INFINITY, 1.0, 0.0};
  }
  w.t = difference / std::sqrt(se2);
  w.df = se2 * se2 / (se2_a * se2_a / static_cast<double>(a.size() - 1) +
                      se2_b * se2_b / static_cast<double>(b.size() - 1));
  const double t2 = w.t * w.t;
  w.p = regularized_incomplete_beta(w.df / 2.0, 0.5, w.df / (w.df + t2), t2 / (w.df + t2));
  return w;
}

}  // namespace petlab::report
