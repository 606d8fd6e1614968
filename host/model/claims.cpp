#include "model/claims.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

namespace petlab {

void ClaimTable::claim(const std::string& site, const std::string& slot, bool exclusive, const std::string& owner) {
  auto& held = claims_[{site, slot}];
  for (const Claim& c : held) {
    if (c.owner == owner) return;
    if (c.exclusive || exclusive)
      throw Error(fmt::format("methods '{}' and '{}' both modify {} of site {}: they cannot be combined there "
                              "(narrow one method's targets or layers so they do not overlap)",
                              c.owner, owner, slot, site));
  }
  held.push_back({owner, exclusive});
}

std::vector<std::string> ClaimTable::holders(const std::string& site, const std::string& slot) const {
  std::vector<std::string> out;
  if (auto it = claims_.find({site, slot}); it != claims_.end())
    for (const Claim& c : it->second) out.push_back(c.owner);
  return out;
}

}  // namespace petlab
