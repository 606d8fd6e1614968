// What tuning methods see of a model: its sites and its tagged parameters. Backbones (and the tiny test
// transformer) own one and expose it; methods reach it only through petlab.host.model/1.
#pragma once

#include "model/parameters.hpp"
#include "model/sites.hpp"

namespace petlab {

struct ModelSurface {
  SiteRegistry sites;
  ParameterTable params;
};

}  // namespace petlab
