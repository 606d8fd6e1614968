// Precompiled for every host translation unit: the LibTorch and JSON headers dominate compile time.
#pragma once
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>
#include <fmt/format.h>
