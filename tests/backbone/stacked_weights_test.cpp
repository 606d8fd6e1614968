// StackedWeights: one matrix for several frozen layers, kept while they are unchanged, rebuilt after an
// in-place change, and stacked anew (with gradients) while a part trains.
#include "backbone/stacked_weights.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

using namespace petlab;

TEST_CASE("stacked frozen weights are kept until a part changes in place") {
  at::Tensor a = at::randn({2, 3}), b = at::randn({4, 3});
  StackedWeights stack;
  const at::Tensor first = stack.get({a, b});
  CHECK(at::equal(first, at::cat({a, b})));
  CHECK(stack.get({a, b}).is_same(first));  // kept, not rebuilt
  a.mul_(2);                                // e.g. a merge writes into a weight
  const at::Tensor second = stack.get({a, b});
  CHECK(!second.is_same(first));
  CHECK(at::equal(second, at::cat({a, b})));
  const at::Tensor other = at::randn({2, 3});
  CHECK(at::equal(stack.get({other, b}), at::cat({other, b})));  // another tensor: rebuilt
}

TEST_CASE("a trainable part is stacked every call, so its gradient arrives") {
  const at::Tensor a = at::randn({2, 3}).requires_grad_(true), b = at::randn({4, 3});
  StackedWeights stack;
  const at::Tensor x = at::randn({5, 3});
  const at::Tensor y = at::linear(x, stack.get({a, b}));
  const at::Tensor grad = torch::autograd::grad({y.sum()}, {a})[0];
  CHECK(at::allclose(grad, at::ones({5, 2}).t().matmul(x)));
  CHECK(!stack.get({a, b}).is_same(stack.get({a, b})));
}
