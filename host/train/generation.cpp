#include "train/generation.hpp"

#include "backbone/t5.hpp"
#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace petlab::train {

namespace {

struct Ids {
  at::Tensor eos;  // [n_eos] int64
  int64_t pad = 0, start = 0;
};

Ids resolve_ids(T5Model& model, const GenerationOptions& o, const at::Device& device) {
  std::vector<int64_t> eos = o.eos_ids;
  if (eos.empty()) {
    const auto& raw = model.config().raw;
    if (raw.contains("eos_token_id") && raw["eos_token_id"].is_array())
      eos = raw["eos_token_id"].get<std::vector<int64_t>>();
    else
      eos.push_back(model.config().get<int64_t>("eos_token_id", 1));
  }
  Ids ids;
  ids.eos = at::tensor(eos, at::TensorOptions().dtype(at::kLong)).to(device);
  ids.pad = o.pad_id >= 0 ? o.pad_id : model.options().pad_id;
  ids.start = o.decoder_start_id >= 0 ? o.decoder_start_id : model.options().decoder_start_id;
  return ids;
}

void check_options(const GenerationOptions& o, const at::Tensor& input_ids, const at::Tensor& attention_mask) {
  if (o.max_new_tokens < 1) throw Error(fmt::format("max_new_tokens: expected >= 1, got {}", o.max_new_tokens));
  if (o.num_beams < 1) throw Error(fmt::format("num_beams: expected >= 1, got {}", o.num_beams));
  if (!std::isfinite(o.length_penalty))
    throw Error(fmt::format("length_penalty: expected a finite number, got {}", o.length_penalty));
  if (input_ids.dim() != 2 || attention_mask.sizes() != input_ids.sizes())
    throw Error(fmt::format("generate: input_ids and attention_mask must both be [batch, length], got {} and {}",
                            c10::str(input_ids.sizes()), c10::str(attention_mask.sizes())));
}

at::Tensor greedy(T5Model& model, const EncoderOutput& encoded, const Ids& ids, const GenerationOptions& o) {
  const int64_t B = encoded.hidden.size(0);
  const auto long_options = at::TensorOptions().dtype(at::kLong).device(encoded.hidden.device());
  T5DecoderState state = model.start_decoding(encoded);
  at::Tensor next = at::full({B, 1}, ids.start, long_options);
  at::Tensor unfinished = at::ones({B}, long_options.dtype(at::kBool));
  std::vector<at::Tensor> steps;
  for (int64_t t = 0; t < o.max_new_tokens; ++t) {
    const at::Tensor logits = model.decode_step(state, next).to(at::kFloat);
    // Rows that already produced eos continue with pad, as HF does.
    const at::Tensor token = at::where(unfinished, logits.argmax(-1), ids.pad);
    steps.push_back(token);
    unfinished = unfinished & at::isin(token, ids.eos).logical_not();
    if (!unfinished.any().item<bool>()) break;
    next = token.unsqueeze(1);
  }
  return at::stack(steps, 1);
}

/// HF's vectorised beam search (generation/utils.py `_beam_search`), step for step: the same tensors, in the
/// same float32 arithmetic, so ties and near-ties resolve the same way.
at::Tensor beam_search(T5Model& model, const EncoderOutput& encoded, const Ids& ids, const GenerationOptions& o) {
  constexpr double kMasked = -1.0e9;
  const int64_t B = encoded.hidden.size(0), K = o.num_beams;
  const int64_t max_length = 1 + o.max_new_tokens;  // the decoder prompt is the start token
  const int64_t keep = std::max<int64_t>(2, 1 + ids.eos.numel()) * K;
  const at::Device device = encoded.hidden.device();
  const auto float_options = at::TensorOptions().dtype(at::kFloat).device(device);
  const auto long_options = at::TensorOptions().dtype(at::kLong).device(device);
  const at::Tensor top_k_mask = at::arange(keep, long_options).lt(K);  // only the top K may finish

  EncoderOutput expanded{encoded.hidden.repeat_interleave(K, 0), encoded.attention_mask.repeat_interleave(K, 0)};
  T5DecoderState state = model.start_decoding(expanded);

  at::Tensor running = at::full({B, K, max_length}, ids.pad, long_options);
  running.select(2, 0).fill_(ids.start);
  at::Tensor running_scores = at::zeros({B, K}, float_options);
  running_scores.narrow(1, 1, K - 1).fill_(kMasked);  // the first step expands beam 0 only
  at::Tensor finished_seqs = running.clone();
  at::Tensor finished_scores = at::full({B, K}, kMasked, float_options);
  at::Tensor finished_lengths = at::zeros({B, K}, long_options);  // generated tokens of each finished candidate
  at::Tensor is_finished = at::zeros({B, K}, float_options.dtype(at::kBool));
  at::Tensor improvable = at::ones({B, 1}, float_options.dtype(at::kBool));
  const at::Tensor batch_offset = at::arange(B, long_options).mul(K).unsqueeze(1);

  for (int64_t cur = 1;; ++cur) {
    const at::Tensor last = running.select(2, cur - 1).reshape({B * K, 1});
    const at::Tensor logits = model.decode_step(state, last).to(at::kFloat);
    const int64_t V = logits.size(-1);
    at::Tensor log_probs = at::log_softmax(logits, -1).view({B, K, V}) + running_scores.unsqueeze(-1);
    log_probs = log_probs.reshape({B, K * V});

    // Top `keep` continuations over all beams (more than K, so K survive even if the best ones end).
    auto [top_scores, top_indices] = at::topk(log_probs, keep);
    const at::Tensor top_beams = top_indices.div(V, "floor");
    const at::Tensor top_tokens = top_indices.remainder(V);
    at::Tensor top_seqs = running.gather(1, top_beams.unsqueeze(-1).expand({B, keep, max_length})).clone();
    top_seqs.select(2, cur).copy_(top_tokens);
    const at::Tensor hits = cur + 1 >= max_length ? at::ones({B, keep}, long_options.dtype(at::kBool))
                                                  : at::isin(top_tokens, ids.eos);

    // Running beams for the next step: the best K that did not just stop.
    const at::Tensor running_candidates = top_scores + hits.to(at::kFloat) * kMasked;
    const at::Tensor next = std::get<1>(at::topk(running_candidates, K));
    running = top_seqs.gather(1, next.unsqueeze(-1).expand({B, K, max_length}));
    running_scores = running_candidates.gather(1, next);
    const at::Tensor source_beams = top_beams.gather(1, next);

    // Finished candidates: length-penalised, merged with the earlier ones, the best K kept.
    const at::Tensor just_finished = hits & top_k_mask.unsqueeze(0);
    at::Tensor scored = top_scores / std::pow(static_cast<double>(cur), o.length_penalty);
    const at::Tensor full = is_finished.all(-1, true) & (o.early_stopping == BeamStop::when_full);
    scored += full.to(at::kFloat) * kMasked;
    scored += improvable.logical_not().to(at::kFloat) * kMasked;
    scored += just_finished.logical_not() * kMasked;
    const at::Tensor merged_scores = at::cat({finished_scores, scored}, 1);
    const at::Tensor best = std::get<1>(at::topk(merged_scores, K));
    finished_seqs = at::cat({finished_seqs, top_seqs}, 1).gather(1, best.unsqueeze(-1).expand({B, K, max_length}));
    finished_scores = merged_scores.gather(1, best);
    finished_lengths = at::cat({finished_lengths, at::full({B, keep}, cur, long_options)}, 1).gather(1, best);
    is_finished = at::cat({is_finished, just_finished}, 1).gather(1, best);

    T5Model::reorder(state, (batch_offset + source_beams).reshape({-1}));

    // Can a running beam still beat the worst finished one? (HF's _check_early_stop_heuristic)
    const double hypothetical = o.early_stopping == BeamStop::never && o.length_penalty > 0
                                    ? static_cast<double>(max_length - 1)
                                    : static_cast<double>(cur);
    const at::Tensor best_running = running_scores.narrow(1, 0, 1) / std::pow(hypothetical, o.length_penalty);
    const at::Tensor worst_finished =
        at::where(is_finished, std::get<0>(finished_scores.min(1, true)), at::scalar_tensor(kMasked, float_options));
    improvable = improvable & (best_running > worst_finished).any(-1, true);

    const bool improvement_possible = improvable.any().item<bool>();
    const bool open_beams = !(o.early_stopping == BeamStop::when_full && is_finished.all().item<bool>());
    const bool can_continue = !hits.all().item<bool>();
    if (!(improvement_possible && open_beams && can_continue)) break;
  }

  const int64_t generated = finished_lengths.select(1, 0).max().item<int64_t>();
  return finished_seqs.select(1, 0).narrow(1, 1, generated).clone();
}

}  // namespace

at::Tensor generate(T5Model& model, const at::Tensor& input_ids, const at::Tensor& attention_mask,
                    const GenerationOptions& options) {
  check_options(options, input_ids, attention_mask);
  at::NoGradGuard no_grad;
  const Ids ids = resolve_ids(model, options, input_ids.device());
  const EncoderOutput encoded = model.encode(input_ids, attention_mask);
  return options.num_beams == 1 ? greedy(model, encoded, ids, options) : beam_search(model, encoded, ids, options);
}

}  // namespace petlab::train
