// Precompiled for every test translation unit.
#pragma once
#include <ATen/ATen.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
