#include "backbone/dropout_kernels.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PETLAB_DROPOUT_AVX2 1
#endif

namespace petlab::dropout_kernels {
namespace {

void draw_keep_portable(uint8_t* keep, uint32_t first, uint32_t count, uint32_t lo, uint32_t hi, uint32_t threshold) {
  for (uint32_t j = 0; j < count; ++j) keep[j] = draw(first + j, lo, hi) >= threshold;
}

void scale_kept_portable(const float* in, float* out, const uint8_t* keep, int64_t count, float scale) {
  for (int64_t j = 0; j < count; ++j) out[j] = in[j] * (static_cast<float>(keep[j]) * scale);
}

#ifdef PETLAB_DROPOUT_AVX2
[[gnu::target("avx2")]] inline __m256i mix(__m256i h, __m256i m1, __m256i m2) {
  h = _mm256_mullo_epi32(_mm256_xor_si256(h, _mm256_srli_epi32(h, 16)), m1);
  h = _mm256_mullo_epi32(_mm256_xor_si256(h, _mm256_srli_epi32(h, 15)), m2);
  return _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
}

/// draw() for eight consecutive indices.
[[gnu::target("avx2")]] inline __m256i draw8(__m256i index, __m256i lo, __m256i hi) {
  const __m256i m1 = _mm256_set1_epi32(0x7FEB352D), m2 = _mm256_set1_epi32(static_cast<int>(0x846CA68Bu));
  const __m256i h = _mm256_add_epi32(_mm256_mullo_epi32(index, _mm256_set1_epi32(static_cast<int>(0x9E3779B9u))), lo);
  return mix(_mm256_xor_si256(mix(h, m1, m2), hi), m1, m2);
}

[[gnu::target("avx2")]] void draw_keep_avx2(uint8_t* keep, uint32_t first, uint32_t count, uint32_t lo,
                                            uint32_t hi, uint32_t threshold) {
  const __m256i vlo = _mm256_set1_epi32(static_cast<int>(lo)), vhi = _mm256_set1_epi32(static_cast<int>(hi));
  const __m256i t = _mm256_set1_epi32(static_cast<int>(threshold)), one = _mm256_set1_epi8(1);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), eight = _mm256_set1_epi32(8);
  const __m256i in_order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // undoes the packs' lane interleaving
  uint32_t j = 0;
  for (; j + 32 <= count; j += 32) {
    __m256i index = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first + j)), lanes);
    __m256i kept[4];
    for (__m256i& k : kept) {
      const __m256i h = draw8(index, vlo, vhi);
      k = _mm256_cmpeq_epi32(_mm256_max_epu32(h, t), h);  // h >= threshold, unsigned: all ones
      index = _mm256_add_epi32(index, eight);
    }
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(kept[0], kept[1]), _mm256_packs_epi32(kept[2], kept[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(keep + j),
                        _mm256_and_si256(_mm256_permutevar8x32_epi32(bytes, in_order), one));
  }
  draw_keep_portable(keep + j, first + j, count - j, lo, hi, threshold);
}

[[gnu::target("avx2")]] void scale_kept_avx2(const float* in, float* out, const uint8_t* keep, int64_t count,
                                             float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  int64_t j = 0;
  for (; j + 8 <= count; j += 8) {
    const __m128i k = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(keep + j));
    const __m256 factor = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(k)), s);
    _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_loadu_ps(in + j), factor));
  }
  scale_kept_portable(in + j, out + j, keep + j, count - j, scale);
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

}  // namespace

void draw_keep(uint8_t* keep, uint32_t first, uint32_t count, uint32_t lo, uint32_t hi, uint32_t threshold) {
#ifdef PETLAB_DROPOUT_AVX2
  if (has_avx2()) return draw_keep_avx2(keep, first, count, lo, hi, threshold);
#endif
  draw_keep_portable(keep, first, count, lo, hi, threshold);
}

void scale_kept(const float* in, float* out, const uint8_t* keep, int64_t count, float scale) {
#ifdef PETLAB_DROPOUT_AVX2
  if (has_avx2()) return scale_kept_avx2(in, out, keep, count, scale);
#endif
  scale_kept_portable(in, out, keep, count, scale);
}

}  // namespace petlab::dropout_kernels
