// Methods reach a model only through the ABI: a plugin's parameter and hook change the output exactly as
// the hook says, gradients reach only what the method marked, merges are exact, errors name their site.
#include "core/error.hpp"
#include "plugin/registry.hpp"
#include "support/tiny_transformer.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <torch/nn/functional/normalization.h>

#include <dlfcn.h>

namespace fs = std::filesystem;
using petlab::Error;
using petlab::MethodRegistry;
using petlab::testing::TinyTransformer;

namespace {
const fs::path kProbe = fs::path(PETLAB_TEST_PLUGIN_DIR) / "petlab-test_probe.so";

struct Batch {
  at::Tensor ids, mask;
};
Batch batch() {
  at::manual_seed(7);
  at::Tensor ids = at::randint(1, 50, {3, 6}, at::kLong);
  at::Tensor mask = at::ones({3, 6}, at::kLong);
  mask.index_put_({2, at::indexing::Slice(4)}, 0);  // one padded row
  return {ids, mask};
}

/// A host-side hook that copies its slots, to compute expectations independently of the plugin.
struct Recorder {
  std::vector<at::Tensor> slots;
  static petlab_status_t record(void* self, const petlab_hook_ctx_t* ctx, petlab_error_t*) {
    auto* r = static_cast<Recorder*>(self);
    r->slots.clear();
    for (uint32_t i = 0; i < ctx->slot_count; ++i)
      r->slots.push_back(reinterpret_cast<at::Tensor*>(ctx->slots[i])->detach().clone());
    return PETLAB_OK;
  }
};

at::Tensor param(TinyTransformer& m, const std::string& name) {
  auto* p = m.surface().params.find(name);
  REQUIRE(p != nullptr);
  return p->tensor;
}
}  // namespace

TEST_CASE("a plugin's hook changes the output exactly as it says, and only its parameter gets gradients") {
  at::manual_seed(0);
  TinyTransformer model;
  model.surface().params.freeze_all();
  const auto [ids, mask] = batch();
  const at::Tensor before = model.forward(ids, mask).detach();

  Recorder recorder;  // installed first, so it sees h before the probe adds to it
  model.surface().sites.add_hook("enc.L1.ffn.block", &Recorder::record, &recorder, nullptr, "test", nullptr);

  MethodRegistry registry;
  registry.load_file(kProbe);
  auto probe = registry.create("probe", {{"site", "enc.L1.ffn.block"}, {"init", 0.25}});
  probe->attach(model.surface());
  const at::Tensor after = model.forward(ids, mask);

  // Independent expectation: the block's output h plus the ramp, through the layer's residual and norm.
  REQUIRE(recorder.slots.size() == 2);
  const int64_t H = model.options().hidden;
  const at::Tensor ramp = at::arange(1, H + 1, at::kFloat) * (0.25 / H);
  const at::Tensor expected = at::layer_norm(recorder.slots[0] + recorder.slots[1] + ramp, {H},
                                             param(model, "layers.1.ffn_norm.weight"),
                                             param(model, "layers.1.ffn_norm.bias"));
  CHECK(at::allclose(after.detach(), expected, 1e-5, 1e-6));
  CHECK_FALSE(at::allclose(after.detach(), before, 1e-3, 1e-3));

  at::manual_seed(1);
  (after * at::randn_like(after)).sum().backward();
  for (const auto& p : model.surface().params.all()) {
    CAPTURE(p.name);
    if (p.owner == "probe") {
      CHECK(p.name == "probe/delta");
      REQUIRE(p.tensor.grad().defined());
      CHECK(p.tensor.grad().abs().sum().item<float>() > 0.0f);
    } else {
      CHECK_FALSE(p.tensor.grad().defined());
    }
  }
}

TEST_CASE("merge folds a method into the weights without changing outputs, unmerge restores them") {
  at::manual_seed(0);
  TinyTransformer model;
  model.surface().params.freeze_all();
  const auto [ids, mask] = batch();
  MethodRegistry registry;
  registry.load_file(kProbe);
  auto scale = registry.create("scale", {{"site", "enc.L0.attn.o"}, {"init", 1.5}});
  REQUIRE(scale->can_merge());
  scale->attach(model.surface());

  at::NoGradGuard no_grad;
  const at::Tensor weight = param(model, "layers.0.o.weight").clone();
  const at::Tensor hooked = model.forward(ids, mask);
  scale->merge(model.surface());
  CHECK(at::allclose(param(model, "layers.0.o.weight"), weight * 1.5));
  CHECK(at::allclose(model.forward(ids, mask), hooked, 1e-5, 1e-6));
  scale->unmerge(model.surface());
  CHECK(at::allclose(param(model, "layers.0.o.weight"), weight, 1e-6, 1e-7));
  CHECK(at::allclose(model.forward(ids, mask), hooked, 1e-5, 1e-6));
}

TEST_CASE("a method without merge says so") {
  TinyTransformer model;
  MethodRegistry registry;
  registry.load_file(kProbe);
  auto probe = registry.create("probe", nullptr);
  CHECK_FALSE(probe->can_merge());
  CHECK_THROWS_WITH_AS(probe->merge(model.surface()), "method 'probe' cannot merge into the backbone", Error);
}

TEST_CASE("attaching to a site the model lacks names the target and lists the sites") {
  TinyTransformer model;
  MethodRegistry registry;
  registry.load_file(kProbe);
  auto probe = registry.create("probe", {{"site", "dec.L0.xattn.q"}});
  CHECK_THROWS_WITH_AS(probe->attach(model.surface()),
                       doctest::Contains("no site matches [dec.L0.xattn.q]; the model has: embed, enc.L0.attn.q"),
                       Error);
}

TEST_CASE("an exception inside a hook becomes an error naming the method and the site") {
  TinyTransformer model;
  const auto [ids, mask] = batch();
  MethodRegistry registry;
  registry.load_file(kProbe);
  auto scale = registry.create("scale", {{"site", "enc.L0.attn.o"}});
  scale->attach(model.surface());
  // A second method's hook on the same site that cannot broadcast: the plugin throws inside the hook.
  auto probe = registry.create("probe", {{"site", "enc.L0.attn.kv"}});
  probe->attach(model.surface());
  CHECK_THROWS_WITH_AS(model.forward(ids, mask), doctest::Contains("hook of method 'probe' on site 'enc.L0.attn.kv' failed"),
                       Error);
}

TEST_CASE("removing a hook restores the original output") {
  at::manual_seed(0);
  TinyTransformer model;
  const auto [ids, mask] = batch();
  at::NoGradGuard no_grad;
  const at::Tensor before = model.forward(ids, mask);
  Recorder recorder;
  const auto id = model.surface().sites.add_hook("embed", &Recorder::record, &recorder, nullptr, "test", nullptr);
  CHECK(model.surface().sites.hook_count() == 1);
  CHECK(model.surface().sites.remove_hook(id));
  CHECK_FALSE(model.surface().sites.remove_hook(id));
  CHECK(at::equal(model.forward(ids, mask), before));
}

TEST_CASE("a plugin library stays loaded until the last object it created is gone") {
  const auto [ids, mask] = batch();
  auto model = std::make_unique<TinyTransformer>();
  {
    MethodRegistry registry;
    registry.load_file(kProbe);
    registry.create("probe", nullptr)->attach(model->surface());
  }  // registry and method instance are gone; the hook (plugin code) is still installed
  void* handle = dlopen(kProbe.c_str(), RTLD_NOW | RTLD_NOLOAD);
  CHECK(handle != nullptr);
  if (handle != nullptr) dlclose(handle);
  at::NoGradGuard no_grad;
  CHECK(model->forward(ids, mask).isfinite().all().item<bool>());  // calls into the plugin
  model.reset();  // frees the hook's closure (plugin code), then releases the library
  handle = dlopen(kProbe.c_str(), RTLD_NOW | RTLD_NOLOAD);
  CHECK(handle == nullptr);
  if (handle != nullptr) dlclose(handle);
}
