// Seeded, platform-independent sampling: a fixed generator (splitmix64) and our own shuffle and
// bounded draws, because std::shuffle and std::uniform_int_distribution differ between standard libraries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace petlab::tasks {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  /// Uniform in [0, n) without modulo bias.
  std::uint64_t below(std::uint64_t n);
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::uint64_t state_;
};

/// Picks `count` of the items so that each stratum keeps its share (largest remainders; every stratum
/// present gets at least one while count allows). Returns the chosen indices in increasing order.
std::vector<std::size_t> stratified_sample(const std::vector<std::string>& strata, std::size_t count, std::uint64_t seed);

}  // namespace petlab::tasks
