// Seeded sampling that gives the same subsets on every platform.
#include "petlab/tasks/sampling.hpp"

#include <algorithm>
#include <map>

namespace petlab::tasks {

std::uint64_t Rng::next() {  // splitmix64
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t Rng::below(std::uint64_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // reject the biased tail
  for (;;) {
    const std::uint64_t x = next();
    if (x < limit) return x % n;
  }
}

std::vector<std::size_t> stratified_sample(const std::vector<std::string>& strata, std::size_t count, std::uint64_t seed) {
  if (count >= strata.size()) {
    std::vector<std::size_t> all(strata.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return all;
  }
  std::map<std::string, std::vector<std::size_t>> by_stratum;  // ordered: the same order on every run
  for (std::size_t i = 0; i < strata.size(); ++i) by_stratum[strata[i]].push_back(i);

  // Quotas by largest remainder of the proportional share; then make sure every stratum gets one while
  // the budget allows, taking from the largest quotas.
  struct Quota {
    std::string stratum;
    std::size_t take;
    double remainder;
  };
  std::vector<Quota> quotas;
  std::size_t assigned = 0;
  for (const auto& [s, idx] : by_stratum) {
    const double exact = static_cast<double>(count) * static_cast<double>(idx.size()) / static_cast<double>(strata.size());
    const auto take = static_cast<std::size_t>(exact);
    quotas.push_back({s, take, exact - static_cast<double>(take)});
    assigned += take;
  }
  std::vector<std::size_t> order(quotas.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return quotas[a].remainder > quotas[b].remainder; });
  for (std::size_t k = 0; assigned < count; k = (k + 1) % order.size()) {
    Quota& q = quotas[order[k]];
    if (q.take < by_stratum[q.stratum].size()) {
      ++q.take;
      ++assigned;
    }
  }
  if (count >= quotas.size()) {
    for (auto& q : quotas) {
      if (q.take > 0) continue;
      auto largest = std::max_element(quotas.begin(), quotas.end(), [](const Quota& a, const Quota& b) { return a.take < b.take; });
      --largest->take;
      q.take = 1;
    }
  }

  Rng rng(seed);
  std::vector<std::size_t> chosen;
  for (const auto& q : quotas) {
    std::vector<std::size_t> idx = by_stratum[q.stratum];
    rng.shuffle(idx);
    chosen.insert(chosen.end(), idx.begin(), idx.begin() + static_cast<long>(q.take));
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace petlab::tasks
