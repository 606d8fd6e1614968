#include "tuning/tuned_model.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <map>

namespace petlab {

TunedModel::TunedModel(std::shared_ptr<Backbone> backbone, std::optional<HeadOptions> head,
                       const std::vector<MethodSpec>& methods, const MethodRegistry& registry, uint64_t init_seed)
    : backbone_(std::move(backbone)), init_seed_(init_seed) {
  ModelSurface& surface = backbone_->surface();
  surface.params.freeze_all();
  // One seed for everything initialised here, drawn in a fixed order: the head, then each method in turn.
  at::manual_seed(init_seed);
  if (head && !backbone_->is_encoder_decoder()) head_ = std::make_unique<EncoderHead>(*backbone_, *head);
  std::map<std::string, int> seen;
  for (const MethodSpec& spec : methods) {
    const int n = ++seen[spec.id];
    const std::string name = n == 1 ? spec.id : fmt::format("{}.{}", spec.id, n);
    methods_.push_back(registry.create(spec.id, spec.knobs, name));
    methods_.back()->attach(surface);
  }
}

TunedModel::~TunedModel() = default;

ParameterCount TunedModel::count() const {
  ParameterCount c;
  for (const Parameter& p : backbone_->surface().params.all()) {
    const int64_t n = p.tensor.numel();
    if (p.trainable()) c.trainable += n;
    if (p.owner == "backbone") c.backbone += n;
    else if (p.owner == "head") c.head += n;
    else c.methods += n;
  }
  return c;
}

void TunedModel::merge() {
  if (merged_) return;
  for (const auto& m : methods_)
    if (!m->can_merge())
      throw Error(fmt::format("cannot merge: method '{}' does not fold into the backbone weights", m->name()));
  for (const auto& m : methods_) m->merge(backbone_->surface());
  merged_ = true;
}

void TunedModel::unmerge() {
  if (!merged_) return;
  for (auto it = methods_.rbegin(); it != methods_.rend(); ++it) (*it)->unmerge(backbone_->surface());
  merged_ = false;
}

void TunedModel::train(bool on) {
  backbone_->train(on);
  if (head_) head_->train(on);
}

}  // namespace petlab
