// The [train] keys a study may set, with their types and defaults: one table that checks study files,
// documents the keys (`petlab study keys`) and gives the trainer its settings.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace petlab {

struct TrainKey {
  std::string name;
  nlohmann::json default_value;  ///< its JSON type is the key's type (a float default accepts integers)
  std::string help;
};

/// Every [train] key, in documentation order.
const std::vector<TrainKey>& train_keys();

/// The defaults as one object.
nlohmann::json default_train_settings();

/// Whether `value` has the type of `key`'s default (integers are accepted where a float is expected, and
/// `eval_every` takes "epoch" or a positive number of steps).
bool train_value_fits(const TrainKey& key, const nlohmann::json& value);

}  // namespace petlab
