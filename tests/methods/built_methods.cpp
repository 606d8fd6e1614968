#include "methods/built_methods.hpp"

namespace petlab::testing {

const MethodRegistry& built_methods() {
  static const MethodRegistry loaded = [] {
    MethodRegistry r;
    r.load_directories({PETLAB_PLUGIN_BUILD_DIR});
    return r;
  }();
  return loaded;
}

}  // namespace petlab::testing
