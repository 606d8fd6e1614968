#include "core/log.hpp"

#include "core/error.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace petlab::log {
namespace {
std::atomic<int> g_threshold{static_cast<int>(Level::warn)};
std::mutex g_write;
constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
}  // namespace

void set_level(const std::string& level) {
  for (int i = 0; i <= static_cast<int>(Level::off); ++i)
    if (level == (i < 4 ? kNames[i] : "off")) {
      g_threshold = i;
      return;
    }
  throw Error("unknown log level '" + level + "'; expected debug, info, warn, error or off");
}

bool enabled(Level level) { return static_cast<int>(level) >= g_threshold.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  std::lock_guard lock(g_write);
  std::fprintf(stderr, "[%s] %.*s\n", kNames[static_cast<int>(level)], static_cast<int>(message.size()),
               message.data());
}

}  // namespace petlab::log
