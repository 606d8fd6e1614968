// The host's exception type. Plugins never see it: at the ABI boundary errors are statuses + messages.
#pragma once

#include <stdexcept>
#include <string>

namespace petlab {

/// A failure with a message meant for the user: it names the file, key or site and what was expected.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace petlab
