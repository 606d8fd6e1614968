// Layer selections shared by every method's `layers` knob, so that Pu & Jain's "which layers to tune"
// ablations read the same everywhere: "all", "0-5", "first:2", "last:4", "random:6" (drawn from the
// torch generator, which the host seeds with the run's init seed), or a list such as [0, 2, 4]. The count
// after "first:", "last:" or "random:" may be a share, "last:50%", so one study file fits any depth.
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace petlab::sdk {

/// The selected layer indices (sorted, unique) out of `count` layers; throws std::invalid_argument with
/// the accepted forms on anything else, and on indices outside [0, count).
inline std::vector<int> select_layers(const nlohmann::json& spec, int count) {
  const std::string forms =
      "expected \"all\", \"A-B\", \"first:N\", \"last:N\", \"random:N\" (N a count or a share such as 50%) or a list of indices";
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("layers " + spec.dump() + ": " + why + " (the model has " + std::to_string(count) +
                                " layers; " + forms + ")");
  };
  std::vector<int> out;
  auto in_range = [&](long v) {
    if (v < 0 || v >= count) fail("index " + std::to_string(v) + " is out of range");
    return static_cast<int>(v);
  };
  if (spec.is_array()) {
    for (const auto& v : spec) {
      if (!v.is_number_integer()) fail("list entries must be integers");
      out.push_back(in_range(v.get<long>()));
    }
  } else if (spec.is_string()) {
    const std::string s = spec.get<std::string>();
    auto number = [&](const std::string& text) {
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) fail("'" + text + "' is not a number");
      return std::stol(text);
    };
    const auto colon = s.find(':'), dash = s.find('-');
    if (s == "all") {
      for (int i = 0; i < count; ++i) out.push_back(i);
    } else if (colon != std::string::npos) {
      const std::string how = s.substr(0, colon);
      const std::string amount = s.substr(colon + 1);
      const bool share = !amount.empty() && amount.back() == '%';
      long n = number(share ? amount.substr(0, amount.size() - 1) : amount);
      if (share) {
        if (n < 1 || n > 100) fail("a share is between 1% and 100%");
        n = std::max(1L, (n * count + 50) / 100);  // rounded to the nearest layer, at least one
      }
      if (n < 1 || n > count) fail("cannot take " + std::to_string(n) + " layers");
      if (how == "first") {
        for (int i = 0; i < n; ++i) out.push_back(i);
      } else if (how == "last") {
        for (int i = count - static_cast<int>(n); i < count; ++i) out.push_back(i);
      } else if (how == "random") {
        const at::Tensor perm = at::randperm(count, at::kLong);
        for (long i = 0; i < n; ++i) out.push_back(static_cast<int>(perm[i].item<int64_t>()));
      } else {
        fail("unknown form '" + how + "'");
      }
    } else if (dash != std::string::npos) {
      const long a = in_range(number(s.substr(0, dash))), b = in_range(number(s.substr(dash + 1)));
      if (a > b) fail("the range is empty");
      for (long i = a; i <= b; ++i) out.push_back(static_cast<int>(i));
    } else {
      out.push_back(in_range(number(s)));
    }
  } else if (spec.is_number_integer()) {
    out.push_back(in_range(spec.get<long>()));
  } else {
    fail("not a string or a list");
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace petlab::sdk
