// What one bottleneck adapter computes, and the variants (Houlsby, Pfeiffer, parallel, scaled parallel) as
// presets of it, with the knob checks shared by the `adapter` and `mam` methods. Header-only: mam includes it.
#pragma once

#include <petlab/sdk.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace petlab::methods {

/// One bottleneck adapter on a BLOCK site (x = sublayer input, h = sublayer output before the residual):
///   f(z) = ln_after( scaling · up( act( down( ln_before(z) ) ) ) )
///   sequential:  h ← h + f(h)                  (original_norm_before = false: Houlsby)
///                h ← h + f(norm(x + h))        (original_norm_before = true: Pfeiffer; T5: h + f(x + h))
///   parallel:    h ← h + f(x)
struct AdapterSpec {
  bool parallel = false;
  bool original_norm_before = false;
  int64_t bottleneck = 0;  ///< the down projection's width; 0 = hidden / reduction_factor
  int64_t reduction_factor = 16;
  std::string non_linearity = "relu";  ///< relu | gelu | swish
  double scaling = 1.0;
  bool learned_scaling = false;  ///< a trainable scalar initialised to 1 instead of the constant
  std::string init = "bert";     ///< bert | lora | mam | houlsby
  bool ln_before = false, ln_after = false;

  /// The bottleneck width on a model of this hidden size.
  int64_t width(int64_t hidden, const std::string& method) const {
    const int64_t b = bottleneck > 0 ? bottleneck : hidden / reduction_factor;
    if (b < 1)
      throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT,
                       method + ": reduction_factor " + std::to_string(reduction_factor) +
                           " leaves no bottleneck for hidden size " + std::to_string(hidden) +
                           "; expected a factor of at most " + std::to_string(hidden));
    return b;
  }
};

/// A variant's defaults, as the `adapters` library's configs set them (DoubleSeqBnConfig, SeqBnConfig,
/// ParBnConfig). "parallel" is ParBnConfig with scaling 1; "scaled_parallel" keeps its scaling 4.
struct AdapterVariant {
  const char* name;
  bool parallel;
  bool original_norm_before;
  const char* placement;  ///< attn | ffn | both
  const char* non_linearity;
  double scaling;
  const char* init;
};

inline const std::vector<AdapterVariant>& adapter_variants() {
  static const std::vector<AdapterVariant> variants = {
      {"houlsby", false, false, "both", "swish", 1.0, "bert"},
      {"pfeiffer", false, true, "ffn", "relu", 1.0, "bert"},
      {"parallel", true, false, "ffn", "relu", 1.0, "lora"},
      {"scaled_parallel", true, false, "ffn", "relu", 4.0, "lora"},
  };
  return variants;
}

/// "a, b or c" for error messages.
inline std::string list_choices(const std::vector<std::string>& choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i)
    out += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  return out;
}

/// `value` when it is one of `choices`; otherwise an error naming the knob and the valid values.
inline std::string checked_choice(const std::string& method, const std::string& knob, const std::string& value,
                                  const std::vector<std::string>& choices) {
  for (const auto& c : choices)
    if (c == value) return value;
  throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT,
                   method + ": " + knob + " = '" + value + "'; expected " + list_choices(choices));
}

inline const AdapterVariant& find_adapter_variant(const std::string& method, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& v : adapter_variants()) names.push_back(v.name);
  checked_choice(method, "variant", name, names);
  for (const auto& v : adapter_variants())
    if (name == v.name) return v;
  throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT, method + ": unknown variant " + name);  // unreachable
}

inline std::string checked_non_linearity(const std::string& method, const std::string& value) {
  return checked_choice(method, "non_linearity", value, {"relu", "gelu", "swish"});
}

inline std::string checked_init(const std::string& method, const std::string& value) {
  return checked_choice(method, "init", value, {"bert", "lora", "mam", "houlsby"});
}

/// Reads a `scaling` knob: a number, or "learned" for a trainable scalar. null keeps the spec's default.
inline void read_scaling(const std::string& method, const nlohmann::json& value, AdapterSpec& spec) {
  if (value.is_null()) return;
  if (value.is_number()) {
    spec.scaling = value.get<double>();
    spec.learned_scaling = false;
    return;
  }
  if (value.is_string() && value.get<std::string>() == "learned") {
    spec.learned_scaling = true;
    return;
  }
  throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT,
                   method + ": scaling = " + value.dump() + "; expected a number or \"learned\"");
}

/// Reads the two ways of sizing the bottleneck; giving both (each away from its default) is an error.
inline void read_bottleneck(const std::string& method, int64_t reduction_factor, int64_t bottleneck,
                            AdapterSpec& spec, int64_t default_reduction_factor = 16) {
  if (bottleneck < 0)
    throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT,
                     method + ": bottleneck = " + std::to_string(bottleneck) +
                         "; expected a positive width, or 0 to use reduction_factor");
  if (reduction_factor < 1)
    throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT,
                     method + ": reduction_factor = " + std::to_string(reduction_factor) +
                         "; expected a positive integer (hidden size / bottleneck width)");
  if (bottleneck > 0 && reduction_factor != default_reduction_factor)
    throw sdk::Error(PETLAB_ERR_INVALID_ARGUMENT,
                     method + ": give either bottleneck (got " + std::to_string(bottleneck) +
                         ") or reduction_factor (got " + std::to_string(reduction_factor) + "), not both");
  spec.bottleneck = bottleneck;
  spec.reduction_factor = reduction_factor;
}

}  // namespace petlab::methods
