// The part of the binary interface the C ABI cannot hide: tensors cross the boundary as LibTorch objects,
// so host and plugin must agree on the LibTorch version, libstdc++'s dual-ABI flag and the compiler family.
// Both sides compute this string from the same macros; the host refuses a plugin whose string differs.
#pragma once

#include <torch/version.h>

#include <cstddef>  // any libstdc++ header defines _GLIBCXX_USE_CXX11_ABI

#define PETLAB_STR_IMPL_(x) #x
#define PETLAB_STR_(x) PETLAB_STR_IMPL_(x)

#if defined(__clang__)
#define PETLAB_COMPILER_FAMILY "clang"
#elif defined(__GNUC__)
#define PETLAB_COMPILER_FAMILY "gcc"
#elif defined(_MSC_VER)
#define PETLAB_COMPILER_FAMILY "msvc"
#else
#define PETLAB_COMPILER_FAMILY "unknown"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define PETLAB_CXX11_ABI PETLAB_STR_(_GLIBCXX_USE_CXX11_ABI)
#else
#define PETLAB_CXX11_ABI "none"
#endif

/// e.g. "torch=2.15.0;cxx11abi=1;compiler=gcc"
#define PETLAB_BUILD_ID                                                                             \
  "torch=" PETLAB_STR_(TORCH_VERSION_MAJOR) "." PETLAB_STR_(TORCH_VERSION_MINOR) "." PETLAB_STR_( \
      TORCH_VERSION_PATCH) ";cxx11abi=" PETLAB_CXX11_ABI ";compiler=" PETLAB_COMPILER_FAMILY
