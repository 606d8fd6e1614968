#include "backbone/device.hpp"

#include "core/error.hpp"
#include "core/log.hpp"

#include <ATen/autocast_mode.h>
#include <ATen/Context.h>

#include <regex>

namespace petlab {

namespace {
bool cuda_available() { return at::globalContext().hasCUDA() && at::detail::getCUDAHooks().deviceCount() > 0; }
}  // namespace

c10::Device parse_device(const std::string& spec) {
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec == "auto") {
    if (cuda_available()) return c10::Device(c10::kCUDA, 0);
    log::info("device 'auto': no CUDA device available, using the CPU");
    return c10::Device(c10::kCPU);
  }
  std::smatch m;
  static const std::regex cuda_re("cuda(?::([0-9]+))?");
  if (std::regex_match(spec, m, cuda_re)) {
    if (!at::globalContext().hasCUDA())
      throw Error("device '" + spec +
                  "' requested, but this petlab build has no CUDA support (configure with -DPETLAB_WITH_CUDA=ON and a "
                  "CUDA-enabled torch wheel), or use device = \"cpu\" / \"auto\"");
    const int index = m[1].matched ? std::stoi(m[1].str()) : 0;
    const int count = static_cast<int>(at::detail::getCUDAHooks().deviceCount());
    if (index >= count)
      throw Error("device '" + spec + "' requested, but this machine has " + std::to_string(count) + " CUDA device(s)");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw Error("unknown device '" + spec + "'; expected cpu, cuda, cuda:N or auto");
}

std::optional<c10::ScalarType> parse_precision(const std::string& spec, const c10::Device& device) {
  if (spec == "fp32") return std::nullopt;
  if (spec == "bf16") return c10::kBFloat16;
  if (spec == "fp16") {
    if (device.is_cpu()) throw Error("dtype 'fp16' needs a CUDA device; on the CPU use bf16 or fp32");
    return c10::kHalf;
  }
  throw Error("unknown dtype '" + spec + "'; expected fp32, bf16 or fp16");
}

AutocastScope::AutocastScope(const c10::Device& device, std::optional<c10::ScalarType> dtype) : type_(device.type()) {
  if (!dtype) return;
  active_ = true;
  previous_enabled_ = at::autocast::is_autocast_enabled(type_);
  previous_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::set_autocast_dtype(type_, *dtype);
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  at::autocast::set_autocast_enabled(type_, previous_enabled_);
  at::autocast::set_autocast_dtype(type_, previous_dtype_);
  if (!previous_enabled_) at::autocast::clear_cache();
}

}  // namespace petlab
