// What tuning methods see of a model: its sites, its tagged parameters, who claimed which slot, and (when the
// host loaded one) the tokenizer. Backbones (and the tiny test transformer) own one and expose it; methods
// reach it only through petlab.host.model/1.
#pragma once

#include "model/claims.hpp"
#include "model/parameters.hpp"
#include "model/sites.hpp"

namespace petlab::tok {
class Tokenizer;
}

namespace petlab {

struct ModelSurface {
  SiteRegistry sites;
  ParameterTable params;
  ClaimTable claims;
  /// The backbone's tokenizer, for methods that initialise from text (prompt tuning); not owned, may be null.
  const tok::Tokenizer* tokenizer = nullptr;
};

}  // namespace petlab
