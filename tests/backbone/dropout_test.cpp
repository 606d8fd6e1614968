// petlab::dropout (backbone/dropout.hpp) and the attention it serves: the share dropped is p, the rest is
// scaled by 1 / (1 - p), the gradient passes through the same mask, at::manual_seed fixes the masks, and
// attention with dropout off equals SDPA.
#include "backbone/attention.hpp"
#include "backbone/dropout.hpp"
#include "backbone/dropout_kernels.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <cstdint>
#include <vector>

using namespace petlab;

TEST_CASE("dropout drops a share p of the elements and scales the others by 1 / (1 - p)") {
  for (const double p : {0.1, 0.5, 0.9}) {
    CAPTURE(p);
    at::manual_seed(3);
    const at::Tensor x = at::rand({1000, 1001}) + 0.5;  // odd sizes: the pairs of the kernel end mid-row
    const at::Tensor y = fast_dropout(x, p, /*training=*/true);
    const at::Tensor dropped = y.eq(0);
    const double share = dropped.to(at::kDouble).mean().item<double>();
    MESSAGE("p " << p << ": dropped " << share);
    CHECK(std::abs(share - p) < 0.002);  // 1e6 draws: the binomial's sd is below 0.0005
    const at::Tensor kept = dropped.logical_not();
    CHECK(at::allclose(y.masked_select(kept), x.masked_select(kept) / (1.0 - p)));
    // Neighbouring elements are independent: P(both dropped) = p².
    const at::Tensor flat = dropped.flatten();
    const double both = (flat.slice(0, 0, -1) & flat.slice(0, 1)).to(at::kDouble).mean().item<double>();
    CHECK(std::abs(both - p * p) < 0.003);
  }
}

TEST_CASE("dropout's gradient goes through the mask of its forward") {
  at::manual_seed(4);
  const at::Tensor x = at::randn({37, 53}).requires_grad_(true);
  const at::Tensor y = fast_dropout(x, 0.3, true);
  const at::Tensor probe = at::randn({37, 53});
  (y * probe).sum().backward();
  const at::Tensor expected = probe * y.ne(0).to(at::kFloat) / 0.7;
  CHECK(at::allclose(x.grad(), expected));
}

TEST_CASE("dropout masks follow at::manual_seed and differ from call to call") {
  const at::Tensor x = at::ones({4096});
  at::manual_seed(9);
  const at::Tensor a = fast_dropout(x, 0.5, true), b = fast_dropout(x, 0.5, true);
  at::manual_seed(9);
  CHECK(at::equal(fast_dropout(x, 0.5, true), a));
  CHECK(!at::equal(a, b));
}

TEST_CASE("dropout is the identity in evaluation and at p = 0, zero at p = 1, and refuses p outside [0, 1]") {
  const at::Tensor x = at::randn({8, 8});
  CHECK(fast_dropout(x, 0.5, false).is_same(x));
  CHECK(fast_dropout(x, 0.0, true).is_same(x));
  CHECK(fast_dropout(x, 1.0, true).abs().sum().item<double>() == 0.0);
  CHECK_THROWS_WITH(fast_dropout(x, 1.5, true), doctest::Contains("not in [0, 1]"));
  // Non-contiguous and half-precision inputs.
  const at::Tensor t = at::randn({16, 12}).t();
  CHECK((fast_dropout(t, 0.2, true).sizes() == t.sizes()));
  CHECK((fast_dropout(at::ones({64}, at::kBFloat16), 0.5, true).scalar_type() == at::kBFloat16));
}

TEST_CASE("attention computes SDPA's result, and with dropout keeps its expectation") {
  at::manual_seed(5);
  const at::Tensor q = at::randn({2, 3, 7, 8}), k = at::randn({2, 3, 9, 8}), v = at::randn({2, 3, 9, 8});
  at::Tensor bias = at::zeros({2, 1, 1, 9});
  bias.index_put_({1, at::indexing::Slice(), at::indexing::Slice(), at::indexing::Slice(6, 9)}, -1e9);
  const at::Tensor reference = at::scaled_dot_product_attention(q, k, v, bias);
  CHECK(at::allclose(attention(q, k, v, bias, 0.0), reference, 1e-5, 1e-5));
  CHECK(at::allclose(attention(q, k, v, bias, 0.0, 0.5),
                     at::scaled_dot_product_attention(q, k, v, bias, 0.0, false, 0.5), 1e-5, 1e-5));
  // The explicit path (taken whenever p > 0 on the CPU) against SDPA, values and gradients: at p = 1e-12 the
  // kernel's 32-bit threshold is 0, so nothing is dropped and the scale is 1 to float precision.
  const at::Tensor qg = q.clone().requires_grad_(true), kg = k.clone().requires_grad_(true),
                   vg = v.clone().requires_grad_(true);
  const at::Tensor explicit_out = attention(qg, kg, vg, bias, 1e-12);
  CHECK(at::allclose(explicit_out, reference, 1e-5, 1e-5));
  const at::Tensor probe = at::randn_like(reference);
  const auto ours = torch::autograd::grad({(explicit_out * probe).sum()}, {qg, kg, vg});
  const at::Tensor qs = q.clone().requires_grad_(true), ks = k.clone().requires_grad_(true),
                   vs = v.clone().requires_grad_(true);
  const auto sdpa = torch::autograd::grad({(at::scaled_dot_product_attention(qs, ks, vs, bias) * probe).sum()},
                                          {qs, ks, vs});
  for (size_t i = 0; i < 3; ++i) CHECK(at::allclose(ours[i], sdpa[i], 1e-4, 1e-5));
  // With dropout: the mean over many draws tends to the result without it.
  at::Tensor sum = at::zeros_like(reference);
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) sum += attention(q, k, v, bias, 0.2);
  CHECK((sum / draws - reference).abs().max().item<double>() < 0.1);
}

TEST_CASE("the vectorised mask kernels agree with the element-wise definition") {
  // Whichever path this processor takes (AVX2 or portable), element j is decided by draw(first + j) alone.
  // The index wraps past 2^32 within the range, as uint32 arithmetic does.
  const uint32_t first = 4294967000u, count = 1000, lo = 0x12345678u, hi = 0x9ABCDEF0u, threshold = 1u << 30;
  std::vector<uint8_t> keep(count);
  dropout_kernels::draw_keep(keep.data(), first, count, lo, hi, threshold);
  int mismatches = 0;
  for (uint32_t j = 0; j < count; ++j)
    mismatches += keep[j] != (dropout_kernels::draw(first + j, lo, hi) >= threshold ? 1 : 0);
  CHECK(mismatches == 0);
  std::vector<float> in(count), out(count);
  for (uint32_t j = 0; j < count; ++j) in[j] = static_cast<float>(j) - 500.0f;
  dropout_kernels::scale_kept(in.data(), out.data(), keep.data(), count, 1.25f);
  for (uint32_t j = 0; j < count; ++j) mismatches += out[j] != (keep[j] ? in[j] * 1.25f : 0.0f);
  CHECK(mismatches == 0);
}
