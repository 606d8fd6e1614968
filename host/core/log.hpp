// The host's log: leveled lines on stderr (stdout stays clean for --json output). Plugins reach it
// through petlab.host.log/1. A few lines of fmt instead of spdlog, whose Debian build does not compile
// as C++20 against Debian's fmt.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace petlab::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

/// Sets the threshold from "debug|info|warn|error|off"; throws petlab::Error on anything else.
void set_level(const std::string& level);
bool enabled(Level level);
void write(Level level, std::string_view message);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace petlab::log
