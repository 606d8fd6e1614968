// Summary statistics over seeds and Welch's t-test against the full-tuning baseline. NaN marks what is
// undefined (a std of one value, a test on fewer than two values a side), as numpy/scipy do.
#pragma once

#include <cstddef>
#include <vector>

namespace petlab::report {

struct Summary {
  std::size_t n = 0;
  double mean = 0;  ///< NaN when n == 0
  double std = 0;   ///< sample standard deviation (ddof = 1); NaN when n < 2
  double min = 0, max = 0;
};
Summary summarize(const std::vector<double>& values);

/// Linear-interpolated quantile (numpy's default), q in [0, 1]; `values` need not be sorted.
double quantile(std::vector<double> values, double q);

/// Regularised incomplete beta I_x(a, b) for a, b > 0 and x in [0, 1]. `one_minus_x` is 1 - x, passed
/// separately so callers that know it exactly avoid cancellation near x = 1.
double regularized_incomplete_beta(double a, double b, double x, double one_minus_x);

/// P(T <= t) for Student's t with `df` > 0 degrees of freedom (df may be fractional).
double student_t_cdf(double t, double df);

struct WelchTest {
  double t = 0, df = 0;
  double p = 0;  ///< two-sided p-value
};
/// Welch's unequal-variance t-test of mean(a) - mean(b), as scipy.stats.ttest_ind(a, b, equal_var=False):
/// NaN when a side has fewer than two values; when both variances are zero, df = 1 and t = ±inf (p = 0)
/// or NaN (equal means).
WelchTest welch_t_test(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace petlab::report
