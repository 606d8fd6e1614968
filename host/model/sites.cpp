#include "model/sites.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

namespace petlab {

HookRecord::HookRecord(petlab_hook_id_t id_, petlab_hook_fn fn_, void* user_data_, petlab_free_fn free_,
                       std::string owner_, std::shared_ptr<const void> keepalive, HookLayout layout_)
    : id(id_), fn(fn_), user_data(user_data_), free_user_data(free_), owner(std::move(owner_)), layout(layout_),
      keepalive_(std::move(keepalive)) {}

HookRecord::~HookRecord() {
  if (free_user_data != nullptr) free_user_data(user_data);
}

SiteId SiteRegistry::add(Site site) {
  if (by_name_.count(site.name) != 0) throw Error("site '" + site.name + "' is registered twice");
  const auto id = static_cast<SiteId>(sites_.size());
  by_name_.emplace(site.name, id);
  sites_.push_back(std::move(site));
  hooks_.emplace_back();
  padded_hooks_.push_back(0);
  return id;
}

std::optional<SiteId> SiteRegistry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

petlab_hook_id_t SiteRegistry::add_hook(const std::string& site, petlab_hook_fn fn, void* user_data,
                                        petlab_free_fn free_user_data, std::string owner,
                                        std::shared_ptr<const void> keepalive, HookLayout layout) {
  if (fn == nullptr) throw Error("hook on site '" + site + "' has no function");
  const auto id = find(site);
  if (!id) throw Error(fmt::format("no site named '{}' (the model has {} sites)", site, sites_.size()));
  const petlab_hook_id_t hook_id = next_hook_id_++;
  hooks_[*id].push_back(std::make_unique<HookRecord>(hook_id, fn, user_data, free_user_data, std::move(owner),
                                                     std::move(keepalive), layout));
  if (layout == HookLayout::padded) ++padded_hooks_[*id];
  return hook_id;
}

bool SiteRegistry::remove_hook(petlab_hook_id_t id) {
  for (size_t site = 0; site < hooks_.size(); ++site)
    for (auto it = hooks_[site].begin(); it != hooks_[site].end(); ++it)
      if ((*it)->id == id) {
        if ((*it)->layout == HookLayout::padded) --padded_hooks_[site];
        hooks_[site].erase(it);
        return true;
      }
  return false;
}

size_t SiteRegistry::hook_count() const {
  size_t n = 0;
  for (const auto& list : hooks_) n += list.size();
  return n;
}

void SiteRegistry::run_hooks(SiteId id, std::span<at::Tensor* const> slots, bool training) const {
  const Site& site = sites_[id];
  petlab_tensor_t* handles[8];
  if (slots.size() > std::size(handles)) throw Error("too many hook slots on site '" + site.name + "'");
  for (size_t i = 0; i < slots.size(); ++i) handles[i] = reinterpret_cast<petlab_tensor_t*>(slots[i]);

  petlab_hook_ctx_t ctx{};
  ctx.header = PETLAB_HEADER_INIT(petlab_hook_ctx_t);
  ctx.site = site.name.c_str();
  ctx.kind = site.kind;
  ctx.layer = site.layer;
  ctx.training = training ? 1 : 0;
  ctx.replica_count = replica_count_;
  ctx.slot_count = static_cast<uint32_t>(slots.size());
  ctx.slots = handles;
  for (const auto& hook : hooks_[id]) {
    petlab_error_t error{};
    if (hook->fn(hook->user_data, &ctx, &error) != PETLAB_OK)
      throw Error(fmt::format("hook of method '{}' on site '{}' failed: {}", hook->owner, site.name, error.message));
  }
}

}  // namespace petlab
