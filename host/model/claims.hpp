// Which method instance modifies what: each claims (site, slot) pairs while attaching, and the table refuses
// a second instance that would modify the same slot incompatibly, naming both. This is what makes composing
// several methods in one run ([[methods]] entries) safe.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace petlab {

class ClaimTable {
 public:
  /// Records that `owner` claims `slot` of `site`. Throws petlab::Error naming both instances when another
  /// owner holds the same slot and either claim is exclusive. Claiming again what one already holds is a no-op.
  void claim(const std::string& site, const std::string& slot, bool exclusive, const std::string& owner);
  /// The instances holding (site, slot), in claiming order.
  std::vector<std::string> holders(const std::string& site, const std::string& slot) const;

 private:
  struct Claim {
    std::string owner;
    bool exclusive;
  };
  std::map<std::pair<std::string, std::string>, std::vector<Claim>> claims_;
};

}  // namespace petlab
