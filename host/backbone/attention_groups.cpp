#include "backbone/attention_groups.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <numeric>

namespace petlab {
namespace {

/// What one more group costs, in attention pairs of one head: about the ops of one attention call (forward
/// and backward) measured against the cost of a pair on a 2-core CPU. Kernel launches make it far dearer on
/// a GPU, where a batch is best left whole.
double group_overhead(const c10::Device& device) { return device.is_cpu() ? 32768.0 : 1e9; }

}  // namespace

std::vector<size_t> cut_by_length(const std::vector<int64_t>& lengths, int64_t heads, int max_groups,
                                  double per_group) {
  const size_t n = lengths.size();
  const int groups = std::max(1, std::min<int>(max_groups, static_cast<int>(n)));
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // best[g][i]: least cost of rows [i, n) in g runs; the run starting at i is padded to lengths[i].
  std::vector<std::vector<double>> best(groups + 1, std::vector<double>(n + 1, kInf));
  std::vector<std::vector<size_t>> next(groups + 1, std::vector<size_t>(n + 1, n));
  best[0][n] = 0.0;
  for (int g = 1; g <= groups; ++g) {
    best[g][n] = 0.0;
    for (size_t i = n; i-- > 0;) {
      const double width = static_cast<double>(lengths[i]);
      for (size_t end = i + 1; end <= n; ++end) {
        const double rest = best[g - 1][end];
        if (rest == kInf) continue;
        const double cost = static_cast<double>(end - i) * width * width * heads + per_group + rest;
        if (cost < best[g][i]) best[g][i] = cost, next[g][i] = end;
      }
    }
  }
  int used = 1;
  for (int g = 2; g <= groups; ++g)
    if (best[g][0] < best[used][0]) used = g;
  std::vector<size_t> starts;
  for (size_t i = 0; i < n; i = next[used--][i]) starts.push_back(i);
  return starts;
}

AttentionGroups::AttentionGroups(const at::Tensor& attention_mask, int64_t heads, int max_groups, double per_group) {
  const at::Tensor real = attention_mask.ne(0).cpu();
  const int64_t B = real.size(0);
  const at::Tensor counts_t = real.sum(1).to(at::kLong).contiguous();
  const int64_t* counts = counts_t.const_data_ptr<int64_t>();
  std::vector<int64_t> offset(static_cast<size_t>(B) + 1, 0);  // packed index of each row's first token
  for (int64_t r = 0; r < B; ++r) offset[r + 1] = offset[r] + counts[r];
  tokens_ = offset[B];

  std::vector<int64_t> order(static_cast<size_t>(B));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return counts[a] > counts[b]; });
  std::vector<int64_t> sorted(order.size());
  for (size_t i = 0; i < order.size(); ++i) sorted[i] = std::max<int64_t>(1, counts[order[i]]);
  const double overhead = per_group >= 0 ? per_group : group_overhead(attention_mask.device());
  std::vector<size_t> starts = cut_by_length(sorted, heads, max_groups, overhead);
  starts.push_back(order.size());

  std::vector<int64_t> gather, scatter(static_cast<size_t>(tokens_));
  const auto lowest = std::numeric_limits<float>::lowest();
  for (size_t g = 0; g + 1 < starts.size(); ++g) {
    Group group{.rows = static_cast<int64_t>(starts[g + 1] - starts[g]), .width = sorted[starts[g]]};
    std::vector<float> bias(static_cast<size_t>(group.rows * group.width), lowest);
    for (int64_t a = 0; a < group.rows; ++a) {
      const int64_t row = order[starts[g] + a];
      for (int64_t j = 0; j < group.width; ++j) {
        const bool token = j < counts[row];
        if (token) scatter[offset[row] + j] = static_cast<int64_t>(gather.size());
        gather.push_back(token ? offset[row] + j : tokens_);
        if (token) bias[a * group.width + j] = 0.0f;
      }
    }
    group.bias = at::tensor(bias).view({group.rows, 1, 1, group.width}).to(attention_mask.device());
    groups_.push_back(std::move(group));
  }
  const auto device = attention_mask.device();
  gather_ = at::tensor(gather, at::kLong).to(device);
  scatter_ = at::tensor(scatter, at::kLong).to(device);
}

std::vector<at::Tensor> AttentionGroups::split(const at::Tensor& packed) const {
  const at::Tensor with_zero = at::cat({packed, at::zeros({1, packed.size(1)}, packed.options())});
  const at::Tensor slots = with_zero.index_select(0, gather_);
  std::vector<at::Tensor> out;
  int64_t start = 0;
  for (const Group& g : groups_) {
    out.push_back(slots.narrow(0, start, g.rows * g.width));
    start += g.rows * g.width;
  }
  return out;
}

at::Tensor AttentionGroups::merge(const std::vector<at::Tensor>& grouped) const {
  return at::cat(grouped).index_select(0, scatter_);
}

}  // namespace petlab
