#include "backbone/token_packing.hpp"

#include <ATen/ATen.h>

namespace petlab {

TokenPacking::TokenPacking(const at::Tensor& attention_mask, bool enabled)
    : rows_(attention_mask.size(0)), width_(attention_mask.size(1)), tokens_(rows_ * width_) {
  if (!enabled) return;
  const at::Tensor real = attention_mask.reshape({-1}).ne(0);
  const int64_t count = real.sum().item<int64_t>();  // one sync per forward, not per layer
  if (count == tokens_) return;
  index_ = real.nonzero().squeeze(1);
  tokens_ = count;
}

at::Tensor TokenPacking::pack(const at::Tensor& padded) const {
  if (!active()) return padded;
  auto shape = padded.sizes().vec();
  shape.erase(shape.begin());
  shape[0] = rows_ * width_;
  return padded.reshape(shape).index_select(0, index_);
}

at::Tensor TokenPacking::unpack(const at::Tensor& packed) const {
  if (!active()) return packed;
  auto shape = packed.sizes().vec();
  shape[0] = rows_ * width_;
  at::Tensor padded = at::zeros(shape, packed.options()).index_copy_(0, index_, packed);
  shape[0] = width_;
  shape.insert(shape.begin(), rows_);
  return padded.view(shape);
}

void TokenPacking::run_site(const SiteRegistry& sites, SiteId site, std::span<at::Tensor* const> slots,
                            bool training) const {
  if (!sites.has_hooks(site)) return;
  if (!active() || !sites.needs_padded_layout(site)) return sites.run(site, slots, training);
  for (at::Tensor* slot : slots) *slot = unpack(*slot);
  sites.run(site, slots, training);
  *slots.back() = pack(*slots.back());  // the one in/out slot of both kinds; the linear's input x is read-only
}

}  // namespace petlab
