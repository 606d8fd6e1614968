// Loads fine; creating its method throws, which must come back as an error, not a crash.
#include <petlab/sdk.hpp>

#include <stdexcept>

namespace {
class Throws : public petlab::sdk::Method {
 public:
  static constexpr const char* id = "throws";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "its constructor throws (test plugin)";
  static petlab::sdk::KnobList knobs() { return {}; }
  explicit Throws(const petlab::sdk::Config&) { throw std::runtime_error("constructor exploded on purpose"); }
  void attach(petlab::sdk::Model&) override {}
};
}  // namespace

PETLAB_PLUGIN("petlab-test-throws", "1.0.0", Throws)
