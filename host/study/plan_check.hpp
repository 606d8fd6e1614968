// `study plan --check`: attaches every cell's methods to the study's backbone once, so that a target glob that
// matches no site, a layer out of range or two methods claiming one slot shows in seconds on the login node,
// not hours into a cluster job. Each cell's trainable-parameter count comes out as a by-product.
#pragma once

#include "study/plan.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace petlab {

struct CellCheck {
  std::string cell;
  ParameterCount count;               ///< valid when `error` is empty
  std::string error;                  ///< why the methods do not attach, or empty
};

/// One check per cell, in plan order; never throws for a cell's own error (it is recorded), only when the
/// backbone itself cannot be loaded.
std::vector<CellCheck> check_plan(const Plan& plan, const MethodRegistry& registry);

}  // namespace petlab
