// A split tokenised once: every example as token ids ready to batch, in the form the backbone consumes
// (an encoder's task format, or T5's text-to-text). Epochs, evaluations and generation reuse it as it is.
#pragma once

#include "tokenizer/tokenizer.hpp"

#include <petlab/tasks/task.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace petlab::train {

struct EncodeOptions {
  /// Source ids per row, special tokens included (longer inputs are truncated longest-first, as HF does).
  size_t max_length = 128;
  /// Text-to-text target ids, eos included; longer targets are cut (keeping eos last).
  size_t max_target_length = 128;
  /// T5: render each example with the task's to_text (source prompt, target text). Otherwise the encoder form
  /// of the task's format, see encode_dataset.
  bool text_to_text = false;
};

/// One example's token ids.
struct EncodedExample {
  /// Encoder inputs: one row, or one per choice (multiple choice, candidate ranking).
  std::vector<tok::Encoding> rows;
  /// Text-to-text: the target's ids with eos; empty for an unlabelled example.
  std::vector<int64_t> target_ids;
  /// Class / right choice index (-1: unlabelled or not a class); regression target (NaN when none).
  int label = -1;
  double target = std::numeric_limits<double>::quiet_NaN();
  /// Sort key of length grouping: the longest row, or the longer of source and target in text-to-text.
  int64_t length = 0;
};

struct EncodedDataset {
  std::vector<EncodedExample> examples;  ///< in the order of the examples given to encode_dataset
  tasks::Format format = tasks::Format::classification;
  bool text_to_text = false;
  int64_t pad_id = 0;  ///< the tokenizer's pad id: right padding of every batch

  size_t size() const { return examples.size(); }
  /// Per-example lengths (EncodedExample::length), what the sampler groups by.
  std::vector<int64_t> lengths() const;
  /// Source ids over all rows (for tokens/s and the data report).
  int64_t total_tokens() const;
};

/// Tokenises `examples` once. Encoder forms (text_to_text false):
///   classification, regression, span_pair: texts[0] paired with the other texts joined by a space; a
///     single-text span pair (WSC) is paired with its span texts ("noun pronoun");
///   multiple_choice: one row per choice, texts[0] paired with the other texts and the choice (COPA:
///     "premise" + "cause <choice>");
///   candidate_ranking: one row per candidate, the passage paired with the query whose "@placeholder" is
///     the candidate; label = the first candidate that is a gold answer;
///   generation: refused (it needs text_to_text).
/// Throws petlab::Error naming the task and example id when an example cannot be encoded.
EncodedDataset encode_dataset(const tasks::Task& task, const std::vector<tasks::Example>& examples,
                              const tok::Tokenizer& tokenizer, const EncodeOptions& options);

}  // namespace petlab::train
