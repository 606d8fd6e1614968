// Text generation for T5 tasks on the decoder's KV cache: batched greedy search and beam search, with the
// semantics of HF transformers' generate() (4.57): log-softmax scores, length penalty on finished beams,
// the same early-stopping rules, max_new_tokens, eos and pad handling.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace petlab {
class T5Model;
}

namespace petlab::train {

/// When beam search stops (HF's early_stopping): `heuristic` (false, HF's default) once no running beam
/// can beat the worst finished one at its current length; `when_full` (true) as soon as every batch row
/// has num_beams finished candidates; `never` only when no running beam could beat them even at max length.
enum class BeamStop { heuristic, when_full, never };

struct GenerationOptions {
  int64_t max_new_tokens = 128;  ///< tokens generated after the decoder start token (eos included)
  int64_t num_beams = 1;         ///< 1 = greedy
  /// Beam search: a finished candidate scores sum(log p) / length^length_penalty (length without the start
  /// token); > 0 favours longer outputs, < 0 shorter.
  double length_penalty = 1.0;
  BeamStop early_stopping = BeamStop::heuristic;
  /// Special ids; empty / negative = the model's config.json (eos_token_id, pad_token_id, decoder_start_token_id).
  std::vector<int64_t> eos_ids;
  int64_t pad_id = -1;
  int64_t decoder_start_id = -1;
};

/// Generates for the right-padded inputs [B, T] (attention_mask 1 on tokens). Returns int64 [B, L] on the
/// inputs' device: the generated ids without the decoder start token, eos included, then pad to the longest
/// row of the batch (L <= max_new_tokens). Runs without gradients and leaves the model's mode unchanged
/// (call eval() first: dropout would otherwise apply). Hooks of attached methods run as in training
/// (prefix keys/values, adapters, ...). Throws petlab::Error naming the knob for a bad option.
at::Tensor generate(T5Model& model, const at::Tensor& input_ids, const at::Tensor& attention_mask,
                    const GenerationOptions& options);

}  // namespace petlab::train
