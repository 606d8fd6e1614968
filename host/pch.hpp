// Precompiled for every host translation unit: the LibTorch and JSON headers dominate compile time.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <nlohmann/json.hpp>
#include <fmt/format.h>
