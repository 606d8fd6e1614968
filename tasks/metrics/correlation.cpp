// Pearson and Spearman correlation as scipy.stats computes them.
#include "petlab/tasks/error.hpp"
#include "petlab/tasks/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace petlab::tasks::metrics {

namespace {

// scipy.stats.rankdata(method="average"): ties share the mean of the ranks they span (1-based).
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

}  // namespace

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw DataError("pearson: " + std::to_string(x.size()) + " targets but " + std::to_string(y.size()) + " predictions");
  if (x.size() < 2) return 0.0;
  const auto mean = [](const std::vector<double>& v) {
    long double s = 0;
    for (double a : v) s += a;
    return s / static_cast<long double>(v.size());
  };
  const long double mx = mean(x), my = mean(y);
  long double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const long double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return 0.0;  // scipy returns nan for a constant input; 0 keeps reports usable
  const long double r = sxy / std::sqrt(sxx * syy);
  return static_cast<double>(std::clamp(r, -1.0L, 1.0L));
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson(average_ranks(x), average_ranks(y));
}

}  // namespace petlab::tasks::metrics
