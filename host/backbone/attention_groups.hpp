// The rows of a packed batch regrouped by length for attention, so that attention skips most padding too.
//
// TokenPacking runs the token-wise work on the real tokens only, but attention mixes the tokens of a row and
// needs rows of one width. Padding every row to the batch's longest wastes the scores, softmax and dropout of
// Σ (T² − Lᵢ²) pairs per head: on RTE (lengths 20 to 128) that is most of them. Here the rows, sorted by
// length, are cut into a few groups, each padded only to its own longest row; the cut minimises the pairs
// computed plus a fixed cost per group (the ops of one more attention call).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace petlab {

class AttentionGroups {
 public:
  struct Group {
    int64_t rows = 0, width = 0;
    at::Tensor bias;  ///< additive [rows, 1, 1, width]: 0 on tokens, the lowest float on padding
  };

  /// From the attention mask [B, T] (nonzero = token) of a batch packed by TokenPacking (real tokens in
  /// row-major order) and the model's number of heads. At most `max_groups` groups; `per_group` is the cost
  /// of one more group in attention pairs of one head (by default what suits the mask's device).
  AttentionGroups(const at::Tensor& attention_mask, int64_t heads, int max_groups = 4, double per_group = -1);

  const std::vector<Group>& groups() const { return groups_; }

  /// Packed tokens [N, F] -> per group [rows · width, F], a row's tokens first in their order, zeros after.
  std::vector<at::Tensor> split(const at::Tensor& packed) const;
  /// The inverse for outputs: per group [rows · width, F] -> packed [N, F] (padding slots are dropped).
  at::Tensor merge(const std::vector<at::Tensor>& grouped) const;

 private:
  std::vector<Group> groups_;
  at::Tensor gather_;   // [Σ rows · width]: the packed row of each slot, N (a zero row) for padding
  at::Tensor scatter_;  // [N]: the slot of each packed token
  int64_t tokens_ = 0;
};

/// The cut of lengths sorted in decreasing order into at most `max_groups` runs [start, end) that minimises
/// Σ (end − start) · lengths[start]² · heads + per_group · (number of runs). Returns the run starts.
std::vector<size_t> cut_by_length(const std::vector<int64_t>& sorted_lengths, int64_t heads, int max_groups,
                                  double per_group);

}  // namespace petlab
