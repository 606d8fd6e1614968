// Weights of several linear layers stacked into one matrix, so that layers reading the same input (a
// layer's query, key and value projections) run as one GEMM. The stack is kept between forwards while
// none of its parts trains; an in-place change of a part (a merge, a load) bumps that part's version
// counter and the stack is rebuilt. A part that trains is stacked anew each forward, so gradients reach it.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace petlab {

class StackedWeights {
 public:
  /// The parts concatenated along dimension 0.
  at::Tensor get(std::initializer_list<at::Tensor> parts);

 private:
  at::Tensor stacked_;
  std::vector<std::pair<const void*, int64_t>> keys_;  // each part's data pointer and version when stacked
};

}  // namespace petlab
