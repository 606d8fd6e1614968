// Device and precision choices: parsed once, checked against what this build and machine can do.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

namespace petlab {

/// "cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU with a log line). Asking for CUDA on
/// a build or machine without it is a petlab::Error that says which of the two is missing.
c10::Device parse_device(const std::string& spec);

/// "fp32" | "bf16" | "fp16" -> the autocast dtype, or nullopt for fp32 (no autocast).
std::optional<c10::ScalarType> parse_precision(const std::string& spec, const c10::Device& device);

/// Enables autocast to `dtype` on `device` for its lifetime (no-op for fp32).
class AutocastScope {
 public:
  AutocastScope(const c10::Device& device, std::optional<c10::ScalarType> dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType type_;
  bool active_ = false, previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::kFloat;
};

}  // namespace petlab
