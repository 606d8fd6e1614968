// Incremental decoding with a KV cache: the building block of greedy and beam search.
#include "backbone/t5.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace petlab {

T5DecoderState T5Model::start_decoding(const EncoderOutput& encoded) {
  T5DecoderState state;
  state.layers.resize(decoder_.size());
  state.batch = encoded.hidden.size(0);
  const at::Tensor cross_bias = padding_bias(encoded.attention_mask, encoded.hidden.scalar_type());
  for (size_t i = 0; i < decoder_.size(); ++i)
    decoder_[i]->prepare_cross_attention(encoded.hidden, cross_bias, state.layers[i]);
  return state;
}

at::Tensor T5Model::decode_step(T5DecoderState& state, const at::Tensor& next_ids) {
  if (state.layers.size() != decoder_.size())
    throw Error("decode_step: the state does not come from this model's start_decoding()");
  if (next_ids.dim() != 2 || next_ids.size(0) != state.batch || next_ids.size(1) != 1)
    throw Error(fmt::format("decode_step: next_ids must be [{}, 1], got {}", state.batch,
                            c10::str(next_ids.sizes())));
  // The new token attends to every token so far: only the position bias of query t over keys 0..t remains.
  const int64_t t = state.length;
  const at::Tensor self_bias = decoder_.front()->self_attention().position_bias(t, 1, t + 1);
  const at::Tensor h = run_decoder(at::embedding(shared_, next_ids), self_bias, {}, {}, &state);
  state.length += 1;
  return lm_logits(h).select(1, 0);
}

void T5Model::reorder(T5DecoderState& state, const at::Tensor& beam_indices) {
  auto pick = [&](at::Tensor& t) {
    // Tensors a hook left broadcast over the batch (size 1) stay as they are.
    if (t.defined() && t.size(0) == state.batch) t = t.index_select(0, beam_indices.to(t.device()));
  };
  for (auto& layer : state.layers) {
    pick(layer.self_keys);
    pick(layer.self_values);
    pick(layer.cross_keys);
    pick(layer.cross_values);
    pick(layer.cross_bias);
  }
  state.batch = beam_indices.size(0);
}

}  // namespace petlab
