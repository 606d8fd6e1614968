#include "backbone/dropout.hpp"

#include "backbone/dropout_kernels.hpp"
#include "core/error.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>

namespace petlab {
namespace {

uint64_t next_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

/// out = in · keep · scale for the other floating types, through float.
template <class T>
void scale_kept(const T* in, T* out, const uint8_t* keep, int64_t count, float scale) {
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(static_cast<float>(in[i]) * (keep[i] * scale));
}

void scale_kept(const float* in, float* out, const uint8_t* keep, int64_t count, float scale) {
  dropout_kernels::scale_kept(in, out, keep, count, scale);
}

/// out = in · keep · scale over contiguous tensors, drawing keep first when `draw`; one parallel pass.
void masked_scale(const at::Tensor& in, const at::Tensor& out, const at::Tensor& keep, float scale, bool draw,
                  uint64_t seed, uint32_t threshold) {
  uint8_t* kept = keep.mutable_data_ptr<uint8_t>();
  const auto lo = static_cast<uint32_t>(seed), hi = static_cast<uint32_t>(seed >> 32);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, in.scalar_type(), "petlab_dropout", [&] {
    const scalar_t* src = in.const_data_ptr<scalar_t>();
    scalar_t* dst = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, in.numel(), 32768, [&](int64_t begin, int64_t end) {
      for (int64_t start = begin; start < end;) {  // split at multiples of 2^32, where the block changes
        const int64_t block = start >> 32, stop = std::min(end, (block + 1) << 32);
        const auto first = static_cast<uint32_t>(start), count = static_cast<uint32_t>(stop - start);
        const uint32_t block_key = hi ^ (static_cast<uint32_t>(block) * 0x85EBCA6Bu);
        if (draw) dropout_kernels::draw_keep(kept + start, first, count, lo, block_key, threshold);
        scale_kept(src + start, dst + start, kept + start, stop - start, scale);
        start = stop;
      }
    });
  });
}

struct CpuDropout : torch::autograd::Function<CpuDropout> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, double p) {
    const at::Tensor in = x.contiguous();
    at::Tensor out = at::empty_like(in);
    at::Tensor keep = at::empty(in.sizes(), in.options().dtype(at::kByte));
    const auto threshold = static_cast<uint32_t>(std::min(p * 4294967296.0, 4294967295.0));
    const double scale = 1.0 / (1.0 - p);
    masked_scale(in, out, keep, static_cast<float>(scale), /*draw=*/true, next_seed(), threshold);
    ctx->save_for_backward({keep});
    ctx->saved_data["scale"] = scale;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor keep = ctx->get_saved_variables()[0];
    const at::Tensor grad = grads[0].contiguous();
    at::Tensor out = at::empty_like(grad);
    masked_scale(grad, out, keep, static_cast<float>(ctx->saved_data["scale"].toDouble()), /*draw=*/false, 0, 0);
    return {out, at::Tensor()};
  }
};

}  // namespace

at::Tensor fast_dropout(const at::Tensor& x, double p, bool training) {
  if (!(p >= 0.0 && p <= 1.0)) throw Error(fmt::format("dropout probability {} is not in [0, 1]", p));
  if (!training || p == 0.0 || x.numel() == 0) return x;
  if (!x.device().is_cpu()) return at::dropout(x, p, training);
  if (p == 1.0) return x * 0;  // every element dropped; keeps the graph
  return CpuDropout::apply(x, p);
}

}  // namespace petlab
