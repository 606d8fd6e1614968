// Named positions in a backbone where methods modify hidden states, and the hooks installed on them.
// A backbone registers its sites once at construction and calls run() at each one during forward;
// a site without hooks costs one branch.
#pragma once

#include <petlab/abi.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace petlab {

/// A site as DESIGN.md names them: "embed", "enc.L3.attn.q", "dec.L0.xattn.kv", "enc.L1.ffn.block"...
struct Site {
  std::string name;
  petlab_site_kind_t kind = PETLAB_SITE_LINEAR;
  std::string stack;  ///< "enc", "dec", or "" for embed
  int layer = -1;
  int64_t in_features = 0, out_features = 0, num_heads = 0, head_dim = 0;
  std::string weight, bias;  ///< LINEAR sites: names of the backbone parameters, bias "" when absent
  /// BLOCK sites: the sublayer's own norm. "post": norm(x + h) follows the site (BERT); "pre": the sublayer
  /// ran on norm(x) (T5). Parameter names are "" where the norm has none (T5's RMS norm has no bias).
  std::string norm_weight, norm_bias, norm_position;
  double norm_eps = 0.0;
};

using SiteId = uint32_t;

/// How a hook on a LINEAR or ACTIVATION site takes its tensors while the backbone skips padding. Plugins built
/// against ABI 1.2 or later accept the batch's real tokens as rows [N, features]; older ones were promised
/// [B, T, features], so the host scatters the padded layout back for them.
enum class HookLayout { padded, token_rows };

/// The layout a plugin compiled against ABI 1.`abi_minor` accepts.
inline HookLayout hook_layout_for_abi_minor(uint16_t abi_minor) {
  return abi_minor >= 2 ? HookLayout::token_rows : HookLayout::padded;
}

/// One installed hook: a C function from a plugin (or the host), its closure, and a reference that keeps
/// the library holding that code loaded until the hook is gone.
class HookRecord {
 public:
  HookRecord(petlab_hook_id_t id, petlab_hook_fn fn, void* user_data, petlab_free_fn free_user_data,
             std::string owner, std::shared_ptr<const void> keepalive, HookLayout layout);
  ~HookRecord();  // frees the closure first, then lets go of the library
  HookRecord(const HookRecord&) = delete;
  HookRecord& operator=(const HookRecord&) = delete;

  petlab_hook_id_t id;
  petlab_hook_fn fn;
  void* user_data;
  petlab_free_fn free_user_data;
  std::string owner;  ///< the method id, for error messages
  HookLayout layout;

 private:
  std::shared_ptr<const void> keepalive_;
};

class SiteRegistry {
 public:
  /// Registers a site; names are unique. Returns the id the backbone passes to run().
  SiteId add(Site site);
  const Site& at(SiteId id) const { return sites_[id]; }
  std::optional<SiteId> find(const std::string& name) const;
  size_t size() const { return sites_.size(); }

  /// Installs a hook; throws petlab::Error naming the site when it does not exist.
  petlab_hook_id_t add_hook(const std::string& site, petlab_hook_fn fn, void* user_data,
                            petlab_free_fn free_user_data, std::string owner,
                            std::shared_ptr<const void> keepalive, HookLayout layout = HookLayout::padded);
  /// Removes a hook by id; returns false when there is none.
  bool remove_hook(petlab_hook_id_t id);
  size_t hook_count() const;

  /// Runs the hooks of a site over its slots (see petlab_site_kind_t for what each kind passes).
  void run(SiteId id, std::span<at::Tensor* const> slots, bool training) const {
    if (!hooks_[id].empty()) run_hooks(id, slots, training);
  }

  bool has_hooks(SiteId id) const { return !hooks_[id].empty(); }
  /// True when some hook on the site needs the padded [B, T, ...] layout (see HookLayout).
  bool needs_padded_layout(SiteId id) const { return padded_hooks_[id] > 0; }

  /// Rows of a batch that belong to independent replicas (fused multi-seed runs); 1 by default.
  void set_replica_count(int replicas) { replica_count_ = replicas; }
  int replica_count() const { return replica_count_; }

 private:
  void run_hooks(SiteId id, std::span<at::Tensor* const> slots, bool training) const;

  std::deque<Site> sites_;  // deque: info structs handed to plugins point into these strings
  std::vector<std::vector<std::unique_ptr<HookRecord>>> hooks_;
  std::vector<int> padded_hooks_;  // per site: hooks with HookLayout::padded
  std::unordered_map<std::string, SiteId> by_name_;
  petlab_hook_id_t next_hook_id_ = 1;
  int replica_count_ = 1;
};

}  // namespace petlab
