// Test plugin for the hook layouts of ABI 1.2: one method whose linear-site hook records the rank of the
// output it is handed (3 for [B, T, F], 2 for the packed rows [N, F]) in a parameter. Built twice: against
// this header, and with LAYOUT_PROBE_ABI_MINOR=1 as a plugin built against ABI 1.1 would be (1.2 added no
// fields, only the promise that linear hooks may get packed rows).
#include <petlab/abi.h>

#ifdef LAYOUT_PROBE_ABI_MINOR
#undef PETLAB_ABI_MINOR
#define PETLAB_ABI_MINOR LAYOUT_PROBE_ABI_MINOR
#endif

#include <petlab/sdk.hpp>

#include <ATen/ATen.h>

#ifndef LAYOUT_PROBE_ID
#define LAYOUT_PROBE_ID "layout-probe"
#endif

namespace {

class LayoutProbe : public petlab::sdk::Method {
 public:
  static constexpr const char* id = LAYOUT_PROBE_ID;
  static constexpr const char* version = "1.0.0";
  static constexpr const char* summary = "records the rank of a linear site's output (test plugin)";
  static petlab::sdk::KnobList knobs() { return {{"site", "enc.L0.attn.q", "a linear site"}}; }

  explicit LayoutProbe(const petlab::sdk::Config& config) : site_(config.get_string("site")) {}

  void attach(petlab::sdk::Model& model) override {
    at::Tensor rank = model.add_parameter("rank", at::zeros({1}));
    model.add_hook(site_, [rank](petlab::sdk::HookCall& call) {
      rank.detach().fill_(static_cast<int64_t>(call.slot(1).dim()));
    });
  }

 private:
  std::string site_;
};

}  // namespace

PETLAB_PLUGIN(LAYOUT_PROBE_ID, "1.0.0", LayoutProbe)
