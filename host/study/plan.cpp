#include "study/plan.hpp"

#include "core/error.hpp"
#include "core/suggest.hpp"
#include "plugin/registry.hpp"
#include "study/train_settings.hpp"

#include <petlab/sdk.hpp>
#include <petlab/tasks/registry.hpp>

#include <fmt/format.h>

namespace petlab {
namespace fs = std::filesystem;
namespace {

/// One sweep axis: a key and the values it takes, in the order written.
struct Axis {
  std::string key;     ///< "r" or "train.learning_rate"
  std::string label;   ///< how it shows in a cell label: "r", "lr"...
  std::vector<nlohmann::json> values;
};

/// Every combination of the axes' values, the first axis varying slowest.
std::vector<std::vector<nlohmann::json>> product(const std::vector<Axis>& axes) {
  std::vector<std::vector<nlohmann::json>> out{{}};
  for (const Axis& axis : axes) {
    std::vector<std::vector<nlohmann::json>> next;
    for (const auto& prefix : out)
      for (const auto& v : axis.values) {
        next.push_back(prefix);
        next.back().push_back(v);
      }
    out = std::move(next);
  }
  return out;
}

bool is_scalar_knob(petlab_knob_type_t type) {
  return type == PETLAB_KNOB_BOOL || type == PETLAB_KNOB_INT || type == PETLAB_KNOB_FLOAT || type == PETLAB_KNOB_STRING;
}

std::string short_value(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string slug(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.';
    if (keep) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.size() > 48 ? out.substr(0, 48) : out;
}

/// FNV-1a: a stable 64-bit digest of the canonical settings (nlohmann sorts object keys).
std::string digest(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return fmt::format("{:016x}", h).substr(0, 8);
}

const petlab_knob_desc_t* find_knob(const petlab_method_desc_t& desc, const std::string& name) {
  for (uint32_t i = 0; i < desc.knob_count; ++i)
    if (name == desc.knobs[i].name) return &desc.knobs[i];
  return nullptr;
}

/// The knob axes of one method: checks names and types, splits values from sweeps.
void knob_axes(const StudyMethod& m, const petlab_method_desc_t& desc, size_t position, nlohmann::json& fixed,
               std::vector<Axis>& axes) {
  for (const auto& [name, value] : m.knobs.items()) {
    const SourceLocation& where = m.knob_where.at(name);
    const petlab_knob_desc_t* knob = find_knob(desc, name);
    if (knob == nullptr) {
      std::vector<std::string> names;
      for (uint32_t i = 0; i < desc.knob_count; ++i) names.emplace_back(desc.knobs[i].name);
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw Error(fmt::format("{}: knobs.{}: method '{}' has no knob '{}'{}; valid knobs: {}", where.to_string(), name,
                              m.id, name, did_you_mean(name, names), list.empty() ? "(none)" : list));
    }
    std::vector<nlohmann::json> values;
    if (value.is_object() && value.size() == 1 && value.contains("sweep")) {
      if (!value["sweep"].is_array() || value["sweep"].empty())
        throw Error(fmt::format("{}: knobs.{}: sweep = [...] needs a non-empty list of values", where.to_string(), name));
      values.assign(value["sweep"].begin(), value["sweep"].end());
    } else if (value.is_array() && is_scalar_knob(knob->type)) {
      if (value.empty()) throw Error(fmt::format("{}: knobs.{}: an empty list sweeps nothing", where.to_string(), name));
      values.assign(value.begin(), value.end());
    } else {
      values = {value};
    }
    for (const auto& v : values)
      if (!sdk::knob_value_fits(knob->type, v))
        throw Error(fmt::format("{}: knobs.{}: method '{}' expects {} for '{}', got {}", where.to_string(), name, m.id,
                                sdk::knob_type_name(knob->type), name, v.dump()));
    if (values.size() == 1) fixed[name] = values[0];
    else axes.push_back({fmt::format("{}#{}", position, name), name, values});
  }
}

}  // namespace

nlohmann::json Cell::settings() const {
  nlohmann::json methods_json = nlohmann::json::array();
  for (const auto& m : methods) methods_json.push_back({{"id", m.id}, {"knobs", m.knobs}});
  return {{"cell", id},
          {"task", task},
          {"data", data.string()},
          {"train_size", train_size ? nlohmann::json(*train_size) : nlohmann::json()},
          {"protocol", protocol},
          {"method_label", method_label},
          {"methods", methods_json},
          {"train", train},
          {"backbone", backbone}};
}

size_t Plan::run_count() const {
  size_t n = 0;
  for (const auto& c : cells) n += c.seeds.size();
  return n;
}

Plan make_plan(const StudyFile& study, const MethodRegistry& registry) {
  if (!fs::exists(study.backbone.model / "config.json"))
    throw Error(fmt::format("{}: backbone.model: '{}' is not a Hugging Face model folder (no config.json there)",
                            study.backbone.where.to_string(), study.backbone.model.string()));
  const auto& tasks = tasks::TaskRegistry::builtin();
  std::vector<std::string> task_ids;
  for (const auto& t : tasks.all()) task_ids.push_back(t.info.id);
  for (const StudyTask& t : study.tasks) {
    if (tasks.find(t.id) == nullptr)
      throw Error(fmt::format("{}: id: unknown task '{}'{} (petlab tasks lists them)", t.where.to_string(), t.id,
                              did_you_mean(t.id, task_ids)));
    if (!fs::is_directory(t.data))
      throw Error(fmt::format("{}: data: '{}' is not a folder (the task's data files go there)", t.data_where.to_string(),
                              t.data.string()));
  }

  Plan plan;
  plan.study = study.name;
  plan.output = study.output / study.name;
  const nlohmann::json backbone = {{"model", study.backbone.model.string()},
                                   {"device", study.backbone.device},
                                   {"dtype", study.backbone.dtype},
                                   {"max_length", study.backbone.max_length}};

  // What each [[methods]] entry expands to, before crossing with tasks, data scales and protocols.
  struct Variant {
    std::string label;
    std::vector<MethodSpec> methods;
    nlohmann::json train;
  };
  std::vector<Variant> variants;
  for (const StudyMethodEntry& entry : study.methods) {
    std::vector<nlohmann::json> fixed(entry.stack.size(), nlohmann::json::object());
    std::vector<Axis> axes;
    for (size_t i = 0; i < entry.stack.size(); ++i) {
      const StudyMethod& m = entry.stack[i];
      const MethodEntry* found = registry.find(m.id);
      if (found == nullptr) {
        std::vector<std::string> ids;
        for (const auto& e : registry.methods()) ids.emplace_back(e.desc->id);
        throw Error(fmt::format("{}: id: unknown method '{}'{} (petlab methods lists the loaded ones)",
                                m.where.to_string(), m.id, did_you_mean(m.id, ids)));
      }
      knob_axes(m, *found->desc, i, fixed[i], axes);
    }
    // [train]: defaults, then the study's, then this entry's; lists are axes.
    nlohmann::json train = default_train_settings();
    train.update(study.train);
    train.update(entry.train);
    nlohmann::json train_fixed = nlohmann::json::object();
    for (const auto& [key, value] : train.items()) {
      if (value.is_array()) axes.push_back({"train." + key, key, std::vector<nlohmann::json>(value.begin(), value.end())});
      else train_fixed[key] = value;
    }
    for (const auto& combo : product(axes)) {
      Variant v{entry.label, {}, train_fixed};
      for (size_t i = 0; i < entry.stack.size(); ++i) v.methods.push_back({entry.stack[i].id, fixed[i]});
      for (size_t a = 0; a < axes.size(); ++a) {
        const Axis& axis = axes[a];
        if (axis.key.rfind("train.", 0) == 0) v.train[axis.label] = combo[a];
        else v.methods[std::stoul(axis.key.substr(0, axis.key.find('#')))].knobs[axis.label] = combo[a];
        v.label += fmt::format(" {}={}", axis.label, short_value(combo[a]));
      }
      variants.push_back(std::move(v));
    }
  }

  const nlohmann::json train_defaults = default_train_settings();
  for (const StudyTask& task : study.tasks)
    for (const auto& size : task.train_sizes)
      for (const auto& protocol : study.protocols)
        for (const Variant& v : variants) {
          Cell cell{"", task.id, task.data, size, protocol, v.label, v.methods, v.train, backbone, study.seeds};
          // The id hangs on what the cell computes, not on where files live: moving the study or running a
          // shard on a machine with other mount points keeps every id.
          nlohmann::json identity = cell.settings();
          identity.erase("cell");
          identity.erase("data");
          identity["backbone"]["model"] = study.backbone.model.filename().string();
          // Settings left at their defaults stay out, so a new [train] key does not change existing ids.
          for (const auto& [key, value] : train_defaults.items())
            if (identity["train"].contains(key) && identity["train"][key] == value) identity["train"].erase(key);
          const std::string task_name = task.id.substr(task.id.find('/') + 1);
          cell.id = fmt::format("{}-{}{}-{}-{}", slug(task_name), slug(v.label),
                                size ? fmt::format("-n{}", *size) : std::string(), protocol, digest(identity.dump()));
          plan.cells.push_back(std::move(cell));
        }
  return plan;
}

}  // namespace petlab
