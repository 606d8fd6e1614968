#include "backbone/dropout.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <mutex>

namespace petlab {
namespace {

constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;

/// Element j of the splitmix64 stream that starts at `seed` (Steele, Lea & Flood 2014).
inline uint64_t splitmix64(uint64_t seed, uint64_t j) {
  uint64_t z = seed + (j + 1) * kGamma;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t next_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

/// out = keep ? in * scale : 0 over contiguous data; with `draw`, keep is drawn first (two 32-bit halves of
/// one hash per pair of elements: an element is dropped when its half is below `threshold`).
template <class T>
void masked_scale(const T* in, T* out, uint8_t* keep, int64_t n, float scale, bool draw, uint64_t seed,
                  uint32_t threshold) {
  const int64_t pairs = (n + 1) / 2;
  at::parallel_for(0, pairs, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      const int64_t i = 2 * j;
      if (draw) {
        const uint64_t h = splitmix64(seed, static_cast<uint64_t>(j));
        keep[i] = static_cast<uint32_t>(h) >= threshold;
        if (i + 1 < n) keep[i + 1] = static_cast<uint32_t>(h >> 32) >= threshold;
      }
      out[i] = keep[i] ? static_cast<T>(static_cast<float>(in[i]) * scale) : static_cast<T>(0);
      if (i + 1 < n) out[i + 1] = keep[i + 1] ? static_cast<T>(static_cast<float>(in[i + 1]) * scale) : static_cast<T>(0);
    }
  });
}

void masked_scale_tensor(const at::Tensor& in, const at::Tensor& out, const at::Tensor& keep, double scale, bool draw, uint64_t seed,
           uint32_t threshold) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, in.scalar_type(), "petlab_dropout", [&] {
    masked_scale<scalar_t>(in.const_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>(),
                           keep.mutable_data_ptr<uint8_t>(), in.numel(), static_cast<float>(scale), draw, seed,
                           threshold);
  });
}

struct CpuDropout : torch::autograd::Function<CpuDropout> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, double p) {
    const at::Tensor in = x.contiguous();
    at::Tensor out = at::empty_like(in);
    at::Tensor keep = at::empty(in.sizes(), in.options().dtype(at::kByte));
    const double scale = 1.0 / (1.0 - p);
    const auto threshold = static_cast<uint32_t>(std::min(p * 4294967296.0, 4294967295.0));
    masked_scale_tensor(in, out, keep, scale, /*draw=*/true, next_seed(), threshold);
    ctx->save_for_backward({keep});
    ctx->saved_data["scale"] = scale;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor keep = ctx->get_saved_variables()[0];
    const at::Tensor grad = grads[0].contiguous();
    at::Tensor out = at::empty_like(grad);
    masked_scale_tensor(grad, out, keep, ctx->saved_data["scale"].toDouble(), /*draw=*/false, 0, 0);
    return {out, at::Tensor()};
  }
};

}  // namespace

at::Tensor fast_dropout(const at::Tensor& x, double p, bool training) {
  if (!(p >= 0.0 && p <= 1.0)) throw Error(fmt::format("dropout probability {} is not in [0, 1]", p));
  if (!training || p == 0.0 || x.numel() == 0) return x;
  if (!x.device().is_cpu()) return at::dropout(x, p, training);
  if (p == 1.0) return x * 0;  // keeps the graph; every element dropped
  return CpuDropout::apply(x, p);
}

}  // namespace petlab
