// Predictions files and their alignment with a split's examples.
#include "petlab/tasks/predictions.hpp"
#include "petlab/tasks/error.hpp"
#include "petlab/tasks/readers.hpp"

#include <unordered_map>

namespace petlab::tasks {

std::vector<std::pair<std::size_t, Prediction>> read_predictions(const std::filesystem::path& path) {
  std::vector<std::pair<std::size_t, Prediction>> out;
  std::unordered_map<std::string, std::size_t> first_line;
  for (const auto& r : read_jsonl(path)) {
    const Where where{path.string(), r.line};
    Prediction p;
    p.id = json_field::id(r.value, "id", where);
    const auto& v = json_field::get(r.value, "prediction", where);
    if (v.is_boolean()) {
      p.label = v.get<bool>() ? 1 : 0;
    } else if (v.is_number_integer()) {
      p.label = static_cast<int>(v.get<long long>());
      p.value = v.get<double>();
    } else if (v.is_number()) {
      p.value = v.get<double>();
    } else if (v.is_string()) {
      p.text = v.get<std::string>();
    } else {
      fail(where, "\"prediction\" should be a label (integer, boolean or string), a number or a text, found " +
                      json_field::type_name(v));
    }
    auto [it, inserted] = first_line.try_emplace(p.id, r.line);
    if (!inserted) fail(where, "duplicate id '" + p.id + "' (first at line " + std::to_string(it->second) + ")");
    out.emplace_back(r.line, std::move(p));
  }
  return out;
}

std::vector<Prediction> align_predictions(const std::vector<Example>& examples,
                                          const std::vector<std::pair<std::size_t, Prediction>>& predictions,
                                          const std::string& predictions_file, const std::string& split_name) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < examples.size(); ++i) index.emplace(examples[i].id, i);
  std::vector<Prediction> aligned(examples.size());
  std::vector<bool> seen(examples.size(), false);
  for (const auto& [line, p] : predictions) {
    auto it = index.find(p.id);
    if (it == index.end())
      fail({predictions_file, line}, "id '" + p.id + "' is not in the " + split_name + " split");
    aligned[it->second] = p;
    seen[it->second] = true;
  }
  std::size_t missing = 0;
  std::string first;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (seen[i]) continue;
    if (++missing <= 5) first += (first.empty() ? "'" : ", '") + examples[i].id + "'";
  }
  if (missing)
    fail({predictions_file}, std::to_string(missing) + " of " + std::to_string(examples.size()) + " examples of the " +
                                 split_name + " split have no prediction (first: " + first + ")");
  return aligned;
}

}  // namespace petlab::tasks
