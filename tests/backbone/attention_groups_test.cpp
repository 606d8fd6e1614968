// AttentionGroups: rows cut by length so attention skips padding; the cut is the cheapest, split and merge
// are inverse, and attention by groups equals attention on the padded batch.
#include "backbone/attention_groups.hpp"
#include "backbone/token_packing.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <limits>
#include <vector>

using namespace petlab;

namespace {
/// A right-padded mask [lengths.size(), max] with the given row lengths.
at::Tensor mask_of(const std::vector<int64_t>& lengths) {
  const int64_t width = *std::max_element(lengths.begin(), lengths.end());
  at::Tensor mask = at::zeros({static_cast<int64_t>(lengths.size()), width}, at::kLong);
  for (size_t r = 0; r < lengths.size(); ++r) mask[static_cast<int64_t>(r)].narrow(0, 0, lengths[r]).fill_(1);
  return mask;
}
}  // namespace

namespace {
double cost_of(const std::vector<int64_t>& lengths, const std::vector<size_t>& starts, int64_t heads, double per_group) {
  double cost = 0;
  for (size_t g = 0; g < starts.size(); ++g) {
    const size_t end = g + 1 < starts.size() ? starts[g + 1] : lengths.size();
    const double width = static_cast<double>(lengths[starts[g]]);
    cost += static_cast<double>(end - starts[g]) * width * width * heads + per_group;
  }
  return cost;
}
}  // namespace

TEST_CASE("the cut by length is the cheapest of all cuts, weighing pairs saved against the cost of a group") {
  const std::vector<int64_t> lengths = {128, 120, 60, 50, 20, 10};
  CHECK(cut_by_length(lengths, 12, 4, 1e12) == std::vector<size_t>{0});  // groups too dear: one
  CHECK(cut_by_length(lengths, 12, 1, 0) == std::vector<size_t>{0});     // at most one
  CHECK(cut_by_length(lengths, 12, 4, 0) == std::vector<size_t>{0, 1, 2, 4});
  CHECK(cut_by_length({7}, 12, 4, 0) == std::vector<size_t>{0});
  // Against every cut of random sorted lengths (2^(n-1) of them).
  at::manual_seed(2);
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t n = 1 + trial % 9;
    at::Tensor drawn = std::get<0>(at::randint(1, 129, {n}, at::kLong).sort(0, /*descending=*/true));
    std::vector<int64_t> sorted(drawn.data_ptr<int64_t>(), drawn.data_ptr<int64_t>() + n);
    const int max_groups = 1 + trial % 4;
    const double per_group = trial % 2 ? 32768.0 : 5000.0;
    double best = std::numeric_limits<double>::infinity();
    for (uint32_t cuts = 0; cuts < (1u << (n - 1)); ++cuts) {
      std::vector<size_t> starts{0};
      for (int64_t i = 1; i < n; ++i)
        if (cuts & (1u << (i - 1))) starts.push_back(static_cast<size_t>(i));
      if (static_cast<int>(starts.size()) <= max_groups) best = std::min(best, cost_of(sorted, starts, 12, per_group));
    }
    const auto chosen = cut_by_length(sorted, 12, max_groups, per_group);
    CAPTURE(trial);
    CHECK(static_cast<int>(chosen.size()) <= max_groups);
    CHECK(cost_of(sorted, chosen, 12, per_group) == doctest::Approx(best));
  }
}

TEST_CASE("split and merge are inverse, padding slots are zero, and the biases mask them") {
  const at::Tensor mask = mask_of({5, 2, 9, 1, 7});
  const TokenPacking packing(mask);
  const AttentionGroups groups(mask, 2, 3, /*per_group=*/0);
  CHECK(groups.groups().size() == 3);
  const at::Tensor packed = at::randn({packing.tokens(), 4});
  const auto parts = groups.split(packed);
  int64_t real = 0;
  for (size_t g = 0; g < parts.size(); ++g) {
    const auto& group = groups.groups()[g];
    CHECK(parts[g].size(0) == group.rows * group.width);
    const at::Tensor is_pad = group.bias.reshape({-1}).lt(0);
    CHECK(parts[g].index({is_pad}).abs().sum().item<double>() == 0.0);
    real += is_pad.logical_not().sum().item<int64_t>();
  }
  CHECK(real == packing.tokens());
  CHECK(at::equal(groups.merge(parts), packed));
}

TEST_CASE("attention by groups equals attention on the padded batch, in values and gradients") {
  at::manual_seed(1);
  const int64_t heads = 3, D = 4, H = heads * D;
  const at::Tensor mask = mask_of({11, 3, 8, 8, 1, 6});
  const TokenPacking packing(mask);
  const int64_t B = mask.size(0), T = mask.size(1);
  const at::Tensor q = at::randn({packing.tokens(), H}).requires_grad_(true), k = at::randn({packing.tokens(), H}),
                   v = at::randn({packing.tokens(), H});

  // Reference: the padded batch with its additive mask.
  auto heads_of = [&](const at::Tensor& t) { return packing.unpack(t).view({B, T, heads, D}).transpose(1, 2); };
  const at::Tensor bias = (1 - mask.to(at::kFloat)).mul(std::numeric_limits<float>::lowest()).view({B, 1, 1, T});
  const at::Tensor expected = packing.pack(
      at::scaled_dot_product_attention(heads_of(q), heads_of(k), heads_of(v), bias).transpose(1, 2).reshape({B, T, H}));
  const at::Tensor probe = at::randn_like(expected);
  const at::Tensor expected_grad = torch::autograd::grad({(expected * probe).sum()}, {q})[0];

  const AttentionGroups groups(mask, heads, 4, /*per_group=*/0);
  REQUIRE(groups.groups().size() == 4);
  const auto qs = groups.split(q), ks = groups.split(k), vs = groups.split(v);
  std::vector<at::Tensor> contexts;
  for (size_t g = 0; g < qs.size(); ++g) {
    const auto& group = groups.groups()[g];
    auto split = [&](const at::Tensor& t) { return t.view({group.rows, group.width, heads, D}).transpose(1, 2); };
    contexts.push_back(at::scaled_dot_product_attention(split(qs[g]), split(ks[g]), split(vs[g]), group.bias)
                           .transpose(1, 2).reshape({group.rows * group.width, H}));
  }
  const at::Tensor grouped = groups.merge(contexts);
  CHECK(at::allclose(grouped, expected, 1e-5, 1e-5));
  CHECK(at::allclose(torch::autograd::grad({(grouped * probe).sum()}, {q})[0], expected_grad, 1e-5, 1e-5));
}
