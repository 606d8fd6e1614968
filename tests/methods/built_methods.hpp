// The method plugins of this build tree (lib/petlab/plugins), loaded once per test binary.
#pragma once

#include "plugin/registry.hpp"

namespace petlab::testing {

const MethodRegistry& built_methods();

}  // namespace petlab::testing
