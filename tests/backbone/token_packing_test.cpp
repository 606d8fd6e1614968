// TokenPacking: the real tokens of a padded batch as rows, and back, with gradients that skip padding.
#include "backbone/token_packing.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

using namespace petlab;

namespace {
at::Tensor mask_of(std::initializer_list<std::initializer_list<int64_t>> rows) {
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  const auto cols = static_cast<int64_t>(rows.begin()->size());
  return at::tensor(flat, at::kLong).view({static_cast<int64_t>(rows.size()), cols});
}
}  // namespace

TEST_CASE("packing keeps the real tokens in row-major order and unpacking puts zeros at padding") {
  const at::Tensor mask = mask_of({{1, 1, 1}, {1, 0, 0}, {1, 1, 0}});
  const TokenPacking packing(mask);
  REQUIRE(packing.active());
  CHECK(packing.tokens() == 6);
  const at::Tensor x = at::arange(9 * 2, at::kFloat).view({3, 3, 2});
  const at::Tensor packed = packing.pack(x);
  CHECK(packed.sizes().vec() == std::vector<int64_t>{6, 2});
  // Rows (0,0) (0,1) (0,2) (1,0) (2,0) (2,1) of the flattened batch.
  CHECK(at::equal(packed.select(1, 0), at::tensor({0.f, 2.f, 4.f, 6.f, 12.f, 14.f})));
  const at::Tensor back = packing.unpack(packed);
  CHECK(back.sizes().vec() == std::vector<int64_t>{3, 3, 2});
  const at::Tensor keep = mask.unsqueeze(-1).to(at::kFloat);
  CHECK(at::equal(back, x * keep));
}

TEST_CASE("gradients through pack and unpack reach the real tokens only") {
  const at::Tensor mask = mask_of({{1, 1, 0, 0}, {1, 1, 1, 1}});
  const TokenPacking packing(mask);
  const at::Tensor x = at::randn({2, 4, 3}).requires_grad_(true);
  const at::Tensor weights = at::randn({2, 4, 3});
  (packing.unpack(packing.pack(x) * 2.0) * weights).sum().backward();
  CHECK(at::allclose(x.grad(), weights * 2.0 * mask.unsqueeze(-1).to(at::kFloat)));
}

TEST_CASE("a batch without padding, or packing turned off, keeps the padded layout untouched") {
  const at::Tensor x = at::randn({2, 3, 4});
  const TokenPacking full(mask_of({{1, 1, 1}, {1, 1, 1}}));
  CHECK_FALSE(full.active());
  CHECK(full.tokens() == 6);
  CHECK(full.pack(x).is_same(x));
  CHECK(full.unpack(x).is_same(x));
  const TokenPacking off(mask_of({{1, 0, 0}, {1, 1, 1}}), /*enabled=*/false);
  CHECK_FALSE(off.active());
  CHECK(off.pack(x).is_same(x));
}
