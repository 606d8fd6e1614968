// The tasks layer's exception: a message for the user that names the file, line or key and what was
// expected. Plain std::runtime_error underneath so the layer stays free of host headers.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace petlab::tasks {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A position in an input file, printed as "file:line" (line 0 = the file as a whole).
struct Where {
  std::string file;
  std::size_t line = 0;
  std::string str() const { return line ? file + ":" + std::to_string(line) : file; }
};

[[noreturn]] inline void fail(const Where& where, const std::string& message) {
  throw DataError(where.str() + ": " + message);
}

}  // namespace petlab::tasks
