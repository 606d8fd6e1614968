# Finds LibTorch inside the `torch` wheel and defines the imported target petlab::torch.
#
# The wheel's own TorchConfig.cmake pulls in the CUDA toolkit and NCCL it finds on the system, which need
# not match the CUDA libraries the wheel was built with (and a CPU-only machine has none). So we locate
# the wheel through its cmake prefix (CMAKE_PREFIX_PATH, as torch.utils.cmake_prefix_path prints it) and
# link its libraries directly: torch_cpu and c10 always, torch_cuda and c10_cuda with PETLAB_WITH_CUDA.
include_guard(GLOBAL)

find_file(PETLAB_TORCH_CONFIG Torch/TorchConfig.cmake
  HINTS ${CMAKE_PREFIX_PATH} ENV CMAKE_PREFIX_PATH
  DOC "TorchConfig.cmake of the torch wheel (pass the wheel's cmake prefix in CMAKE_PREFIX_PATH)")
if(NOT PETLAB_TORCH_CONFIG)
  message(FATAL_ERROR
    "LibTorch not found. Pass the torch wheel's cmake prefix, e.g.\n"
    "  cmake -DCMAKE_PREFIX_PATH=\"$(python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')\" ...\n"
    "(scripts/setup does this with the project's venv).")
endif()
get_filename_component(PETLAB_TORCH_ROOT "${PETLAB_TORCH_CONFIG}/../../../.." ABSOLUTE)

set(_petlab_torch_libs torch_cpu c10)
if(PETLAB_WITH_CUDA)
  list(PREPEND _petlab_torch_libs torch_cuda c10_cuda)
endif()
set(_petlab_torch_paths "")
foreach(_lib IN LISTS _petlab_torch_libs)
  find_library(PETLAB_TORCH_LIB_${_lib} ${_lib} PATHS "${PETLAB_TORCH_ROOT}/lib" NO_DEFAULT_PATH)
  if(NOT PETLAB_TORCH_LIB_${_lib})
    message(FATAL_ERROR "lib${_lib}.so is missing from ${PETLAB_TORCH_ROOT}/lib")
  endif()
  list(APPEND _petlab_torch_paths "${PETLAB_TORCH_LIB_${_lib}}")
endforeach()

set(PETLAB_TORCH_VERSION "")
foreach(_part MAJOR MINOR PATCH)
  file(STRINGS "${PETLAB_TORCH_ROOT}/include/torch/headeronly/version.h" _line REGEX "#define TORCH_VERSION_${_part} ")
  string(REGEX MATCH "[0-9]+$" _num "${_line}")
  list(APPEND PETLAB_TORCH_VERSION "${_num}")
endforeach()
list(JOIN PETLAB_TORCH_VERSION "." PETLAB_TORCH_VERSION)

if(NOT TARGET petlab::torch)
  add_library(petlab::torch INTERFACE IMPORTED)
  # SYSTEM: LibTorch's own warnings are not ours to fix.
  set_target_properties(petlab::torch PROPERTIES
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES
      "${PETLAB_TORCH_ROOT}/include;${PETLAB_TORCH_ROOT}/include/torch/csrc/api/include"
    INTERFACE_INCLUDE_DIRECTORIES
      "${PETLAB_TORCH_ROOT}/include;${PETLAB_TORCH_ROOT}/include/torch/csrc/api/include"
    INTERFACE_COMPILE_FEATURES cxx_std_20)
  if(PETLAB_WITH_CUDA)
    # torch_cuda registers its kernels from static initialisers: keep it linked though no symbol is used.
    set(_petlab_link "-Wl,--no-as-needed;${_petlab_torch_paths};-Wl,--as-needed")
    file(GLOB _petlab_nvidia_dirs LIST_DIRECTORIES true "${PETLAB_TORCH_ROOT}/../nvidia/*/lib")
    foreach(_dir IN LISTS _petlab_nvidia_dirs)
      list(APPEND _petlab_link "-Wl,-rpath-link,${_dir}")
    endforeach()
    set_target_properties(petlab::torch PROPERTIES
      INTERFACE_LINK_LIBRARIES "${_petlab_link}"
      INTERFACE_COMPILE_DEFINITIONS "PETLAB_WITH_CUDA=1")
  else()
    set_target_properties(petlab::torch PROPERTIES INTERFACE_LINK_LIBRARIES "${_petlab_torch_paths}")
  endif()
endif()
message(STATUS "petlab: LibTorch ${PETLAB_TORCH_VERSION} from ${PETLAB_TORCH_ROOT} (CUDA: ${PETLAB_WITH_CUDA})")
