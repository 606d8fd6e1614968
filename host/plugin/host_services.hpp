// The host side of the ABI: the petlab_host_t table plugins receive, and the petlab.host.model/1
// functions that let a method instance work on a ModelSurface.
#pragma once

#include "model/surface.hpp"

#include <petlab/abi.h>

#include <memory>
#include <string>

namespace petlab {

/// A petlab_host_t whose extensions are petlab.host.model/1 and the given log table.
petlab_host_t make_host_services(const petlab_host_log_v1_t* log);

/// What a petlab_model_t handle points at: one method's view of one model during attach/merge. Hooks the
/// method installs keep `keepalive` (its library) so the code they call outlives any unloading.
struct ModelBinding {
  ModelSurface* surface;
  std::string method_id;
  std::shared_ptr<const void> keepalive;
  uint16_t abi_minor = 0;  ///< the ABI minor the method's plugin was built against (its descriptor's header)

  petlab_model_t* handle() { return reinterpret_cast<petlab_model_t*>(this); }
};

}  // namespace petlab
