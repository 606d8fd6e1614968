// Batches from an encoded dataset: the order of each epoch (seeded by data_seed alone, grouped by length the
// way HF's LengthGroupedSampler does) and tensors padded only to each batch's own longest row.
#pragma once

#include "train/encoded_dataset.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <vector>

namespace petlab::train {

/// A batch as example positions in the dataset.
using BatchIndices = std::vector<size_t>;

struct SamplerOptions {
  int64_t batch_size = 32;
  bool shuffle = true;           ///< training order; false keeps the dataset order (before grouping)
  bool group_by_length = true;   ///< mega-batches sorted by length, so batches hold similar lengths
  int64_t mega_batch_factor = 50;  ///< mega-batch = min(factor, n / (4 * batch_size)) (at least 1) batches
  uint64_t data_seed = 0;        ///< the only source of the order: same seed, same batches on every platform
  bool drop_last = false;        ///< drop a last batch smaller than batch_size
};

/// Draws the batches of each training epoch. Deterministic in (data_seed, epoch): a resumed run or a second
/// run with the same seed sees the same batches, whatever the init seed or the platform (own splitmix64
/// generator and shuffle, no std:: distributions).
class BatchSampler {
 public:
  /// `lengths` per example (EncodedDataset::lengths()); throws petlab::Error for batch_size < 1 or no examples.
  BatchSampler(std::vector<int64_t> lengths, const SamplerOptions& options);

  /// The batches of epoch `epoch` (0-based): every example exactly once (but a dropped last batch). With
  /// length grouping: shuffle, cut into mega-batches, sort each by decreasing length, split into batches, and
  /// move the longest example into the first batch (an out-of-memory shows up at once, as in HF).
  std::vector<BatchIndices> epoch(int64_t epoch) const;
  /// Batches per epoch.
  int64_t batches_per_epoch() const;
  int64_t size() const { return static_cast<int64_t>(lengths_.size()); }

 private:
  std::vector<int64_t> lengths_;
  SamplerOptions options_;
};

/// Evaluation order: every example once, longest first (least padding); predictions go back by index.
std::vector<BatchIndices> evaluation_batches(const std::vector<int64_t>& lengths, int64_t batch_size);

/// Tensors of one batch (CPU, int64 unless stated). Rows are right-padded with the dataset's pad id to the
/// longest row of this batch only.
struct Batch {
  at::Tensor input_ids, attention_mask, token_type_ids;  ///< [rows, T]
  /// classification / multiple choice / candidate ranking: [B] class or choice index (-1 unlabelled);
  /// regression: float32 [B] (NaN unlabelled); text-to-text: [B, Tt] target ids padded with -100 (ignored
  /// by the loss), all -100 for unlabelled rows.
  at::Tensor labels;
  /// Multiple choice / candidate ranking: choices per example; rows = B * num_choices, example-major.
  int64_t num_choices = 1;
  /// [B, num_choices] bool: which choice rows are real (examples with fewer candidates get empty rows).
  /// Undefined when every example has num_choices choices.
  at::Tensor choice_mask;
  BatchIndices indices;  ///< dataset positions of the B examples
  int64_t tokens = 0;    ///< real source tokens (no padding), for tokens/s

  int64_t size() const { return static_cast<int64_t>(indices.size()); }
  /// A copy with every tensor on `device` (non-blocking where possible).
  Batch to(const at::Device& device) const;
};

/// Builds the tensors of the examples at `indices`.
Batch collate(const EncodedDataset& dataset, std::span<const size_t> indices);

}  // namespace petlab::train
