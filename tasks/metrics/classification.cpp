// Classification metrics as scikit-learn computes them.
#include "petlab/tasks/error.hpp"
#include "petlab/tasks/metrics.hpp"

#include <cmath>
#include <map>
#include <set>

namespace petlab::tasks::metrics {

namespace {

void check_sizes(std::size_t a, std::size_t b, const char* metric) {
  if (a != b)
    throw DataError(std::string(metric) + ": " + std::to_string(a) + " labels but " + std::to_string(b) +
                    " predictions");
}

struct ClassCounts {
  long long tp = 0, fp = 0, fn = 0;
};

double f1_of(const ClassCounts& c) {
  const long long denominator = 2 * c.tp + c.fp + c.fn;
  return denominator == 0 ? 0.0 : 2.0 * static_cast<double>(c.tp) / static_cast<double>(denominator);
}

std::map<int, ClassCounts> per_class(const std::vector<int>& truth, const std::vector<int>& predicted) {
  std::map<int, ClassCounts> counts;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == predicted[i]) {
      ++counts[truth[i]].tp;
    } else {
      ++counts[truth[i]].fn;
      ++counts[predicted[i]].fp;
    }
  }
  return counts;
}

}  // namespace

double accuracy(const std::vector<int>& truth, const std::vector<int>& predicted) {
  check_sizes(truth.size(), predicted.size(), "accuracy");
  if (truth.empty()) return 0.0;
  long long right = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) right += truth[i] == predicted[i];
  return static_cast<double>(right) / static_cast<double>(truth.size());
}

double binary_f1(const std::vector<int>& truth, const std::vector<int>& predicted) {
  check_sizes(truth.size(), predicted.size(), "f1");
  auto counts = per_class(truth, predicted);
  return f1_of(counts[1]);
}

double macro_f1(const std::vector<int>& truth, const std::vector<int>& predicted) {
  check_sizes(truth.size(), predicted.size(), "macro_f1");
  const auto counts = per_class(truth, predicted);
  if (counts.empty()) return 0.0;
  double sum = 0;
  for (const auto& [label, c] : counts) sum += f1_of(c);
  return sum / static_cast<double>(counts.size());
}

double matthews_corrcoef(const std::vector<int>& truth, const std::vector<int>& predicted) {
  check_sizes(truth.size(), predicted.size(), "mcc");
  std::map<int, long double> true_count, pred_count;
  long double correct = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    true_count[truth[i]] += 1;
    pred_count[predicted[i]] += 1;
    correct += truth[i] == predicted[i];
  }
  const long double n = static_cast<long double>(truth.size());
  long double tp_dot = 0, pp_dot = 0, tt_dot = 0;
  for (const auto& [label, t] : true_count) {
    tt_dot += t * t;
    if (auto it = pred_count.find(label); it != pred_count.end()) tp_dot += t * it->second;
  }
  for (const auto& [label, p] : pred_count) pp_dot += p * p;
  const long double cov_ytyp = correct * n - tp_dot;
  const long double cov_ypyp = n * n - pp_dot;
  const long double cov_ytyt = n * n - tt_dot;
  if (cov_ypyp * cov_ytyt == 0) return 0.0;
  return static_cast<double>(cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp));
}

}  // namespace petlab::tasks::metrics
