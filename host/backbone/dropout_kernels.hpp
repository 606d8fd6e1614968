// The loops under petlab::fast_dropout: drawing a byte mask from a counter-based hash and applying it.
// AVX2 versions where the processor has it (chosen at run time), portable loops elsewhere; both give the
// same mask for the same seed, so a run is reproducible across machines.
#pragma once

#include <cstdint>

namespace petlab::dropout_kernels {

/// The 32-bit draw for element `index` of a call keyed (lo, hi): a Weyl sequence through two rounds of the
/// lowbias32 mixer (C. Wellons' hash prospector), the second keyed by the other half of the seed.
inline uint32_t draw(uint32_t index, uint32_t lo, uint32_t hi) {
  uint32_t h = index * 0x9E3779B9u + lo;
  h ^= h >> 16; h *= 0x7FEB352Du; h ^= h >> 15; h *= 0x846CA68Bu; h ^= h >> 16;
  h ^= hi;
  h ^= h >> 16; h *= 0x7FEB352Du; h ^= h >> 15; h *= 0x846CA68Bu; h ^= h >> 16;
  return h;
}

/// keep[j] = draw(first + j, lo, hi) >= threshold for j < count.
void draw_keep(uint8_t* keep, uint32_t first, uint32_t count, uint32_t lo, uint32_t hi, uint32_t threshold);

/// out[j] = in[j] · keep[j] · scale for j < count (float data).
void scale_kept(const float* in, float* out, const uint8_t* keep, int64_t count, float scale);

}  // namespace petlab::dropout_kernels
