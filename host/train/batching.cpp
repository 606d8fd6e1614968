#include "train/batching.hpp"

#include "core/error.hpp"

#include <petlab/tasks/sampling.hpp>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace petlab::train {

namespace {

std::vector<BatchIndices> split(const std::vector<size_t>& order, int64_t batch_size, bool drop_last) {
  std::vector<BatchIndices> out;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(order.size(), i + static_cast<size_t>(batch_size));
    if (drop_last && end - i < static_cast<size_t>(batch_size)) break;
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i), order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

void sort_longest_first(std::vector<size_t>::iterator begin, std::vector<size_t>::iterator end,
                        const std::vector<int64_t>& lengths) {
  std::stable_sort(begin, end, [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
}

at::Tensor int64_tensor(std::vector<int64_t>& values, int64_t rows, int64_t cols) {
  return at::from_blob(values.data(), {rows, cols}, at::kLong).clone();
}

}  // namespace

BatchSampler::BatchSampler(std::vector<int64_t> lengths, const SamplerOptions& options)
    : lengths_(std::move(lengths)), options_(options) {
  if (options.batch_size < 1) throw Error(fmt::format("batch_size: expected >= 1, got {}", options.batch_size));
  if (options.mega_batch_factor < 1)
    throw Error(fmt::format("mega_batch_factor: expected >= 1, got {}", options.mega_batch_factor));
  if (lengths_.empty()) throw Error("the training split has no examples");
}

int64_t BatchSampler::batches_per_epoch() const {
  const int64_t n = size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<BatchIndices> BatchSampler::epoch(int64_t epoch) const {
  std::vector<size_t> order(lengths_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (options_.shuffle) {
    // One stream per epoch, derived from the data seed only: epoch k's order never depends on epochs before it.
    tasks::Rng rng(options_.data_seed ^ (0xD1B54A32D192ED03ULL * static_cast<uint64_t>(epoch + 1)));
    rng.shuffle(order);
  }
  if (options_.group_by_length) {
    const int64_t n = size(), b = options_.batch_size;
    const int64_t mega = std::max<int64_t>(1, std::min(options_.mega_batch_factor, n / (4 * b))) * b;
    std::vector<size_t> firsts;  // where each mega-batch starts (its longest example after sorting)
    for (int64_t start = 0; start < n; start += mega) {
      const auto begin = order.begin() + start, end = order.begin() + std::min(n, start + mega);
      sort_longest_first(begin, end, lengths_);
      firsts.push_back(static_cast<size_t>(start));
    }
    size_t longest = firsts.front();
    for (size_t f : firsts)
      if (lengths_[order[f]] > lengths_[order[longest]]) longest = f;
    std::swap(order[firsts.front()], order[longest]);
  }
  return split(order, options_.batch_size, options_.drop_last);
}

std::vector<BatchIndices> evaluation_batches(const std::vector<int64_t>& lengths, int64_t batch_size) {
  if (batch_size < 1) throw Error(fmt::format("eval_batch_size: expected >= 1, got {}", batch_size));
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  sort_longest_first(order.begin(), order.end(), lengths);
  return split(order, batch_size, false);
}

Batch Batch::to(const at::Device& device) const {
  Batch out = *this;
  auto move = [&](at::Tensor& t) {
    if (t.defined()) t = t.to(device, /*non_blocking=*/true);
  };
  for (at::Tensor* t : {&out.input_ids, &out.attention_mask, &out.token_type_ids, &out.labels, &out.choice_mask}) move(*t);
  return out;
}

Batch collate(const EncodedDataset& dataset, std::span<const size_t> indices) {
  if (indices.empty()) throw Error("collate: an empty batch");
  Batch batch;
  batch.indices.assign(indices.begin(), indices.end());
  const int64_t B = static_cast<int64_t>(indices.size());
  for (size_t i : indices) {
    if (i >= dataset.size()) throw Error(fmt::format("collate: example {} of {} does not exist", i, dataset.size()));
    batch.num_choices = std::max<int64_t>(batch.num_choices, static_cast<int64_t>(dataset.examples[i].rows.size()));
  }
  const bool multi_row = dataset.format == tasks::Format::multiple_choice ||
                         dataset.format == tasks::Format::candidate_ranking;
  if (!multi_row || dataset.text_to_text) batch.num_choices = 1;

  // Input rows, example-major; an example with fewer choices repeats its first row (masked by choice_mask).
  std::vector<tok::Encoding> rows;
  rows.reserve(static_cast<size_t>(B * batch.num_choices));
  std::vector<uint8_t> real;
  bool ragged = false;
  for (size_t i : indices) {
    const auto& e = dataset.examples[i];
    for (int64_t c = 0; c < batch.num_choices; ++c) {
      const bool present = c < static_cast<int64_t>(e.rows.size());
      rows.push_back(present ? e.rows[static_cast<size_t>(c)] : e.rows.front());
      real.push_back(present ? 1 : 0);
      ragged |= !present;
    }
  }
  tok::Batch padded = tok::pad_batch(rows, dataset.pad_id);
  const auto R = static_cast<int64_t>(padded.rows), T = static_cast<int64_t>(padded.cols);
  batch.input_ids = int64_tensor(padded.ids, R, T);
  batch.token_type_ids = int64_tensor(padded.type_ids, R, T);
  batch.attention_mask = int64_tensor(padded.attention_mask, R, T);
  for (size_t r = 0; r < rows.size(); ++r)
    if (real[r]) batch.tokens += static_cast<int64_t>(rows[r].ids.size());
  if (ragged)
    batch.choice_mask = at::from_blob(real.data(), {B, batch.num_choices}, at::kByte).to(at::kBool);

  if (dataset.text_to_text) {
    size_t width = 1;
    for (size_t i : indices) width = std::max(width, dataset.examples[i].target_ids.size());
    std::vector<int64_t> labels(static_cast<size_t>(B) * width, -100);
    for (int64_t b = 0; b < B; ++b) {
      const auto& t = dataset.examples[indices[static_cast<size_t>(b)]].target_ids;
      std::copy(t.begin(), t.end(), labels.begin() + b * static_cast<int64_t>(width));
    }
    batch.labels = int64_tensor(labels, B, static_cast<int64_t>(width));
  } else if (dataset.format == tasks::Format::regression) {
    std::vector<float> targets;
    for (size_t i : indices) targets.push_back(static_cast<float>(dataset.examples[i].target));
    batch.labels = at::from_blob(targets.data(), {B}, at::kFloat).clone();
  } else {
    std::vector<int64_t> labels;
    for (size_t i : indices) labels.push_back(dataset.examples[i].label);
    batch.labels = at::from_blob(labels.data(), {B}, at::kLong).clone();
  }
  return batch;
}

}  // namespace petlab::train
