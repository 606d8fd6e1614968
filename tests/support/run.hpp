// Runs a command line for end-to-end tests and captures what it printed and how it exited.
#pragma once

#include <string>

namespace petlab::testing {

struct RunResult {
  int exit_code;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Runs `command` through /bin/sh.
RunResult run(const std::string& command);

/// Quotes a path or argument for /bin/sh.
std::string shell_quote(const std::string& s);

}  // namespace petlab::testing
