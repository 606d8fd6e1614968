// `petlab tasks [--json]`: every built-in task with its splits' files, metrics, labels and formats.
#include "cli/commands.hpp"

#include <petlab/tasks/registry.hpp>

#include <nlohmann/json.hpp>

#include <iostream>

namespace petlab::cli {

namespace {

nlohmann::json task_json(const tasks::Task& t) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [split, names] : t.info.files) files[tasks::to_string(split)] = names;
  return {{"id", t.info.id},
          {"family", t.info.family},
          {"description", t.info.description},
          {"format", tasks::to_string(t.info.format)},
          {"text_to_text", true},
          {"text_fields", t.info.text_fields},
          {"labels", t.info.labels},
          {"label_words", t.info.label_words},
          {"metrics", t.info.metrics},
          {"files", files}};
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

void add_tasks_command(CLI::App& app, const GlobalOptions&) {
  auto* cmd = app.add_subcommand("tasks", "List the built-in tasks with splits, metrics, labels and formats");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print a JSON array instead of text");
  cmd->callback([json] {
    const auto& registry = tasks::TaskRegistry::builtin();
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : registry.all()) out.push_back(task_json(t));
      std::cout << out.dump(2) << "\n";
      return;
    }
    for (const auto& t : registry.all()) {
      std::cout << t.info.id << "  " << t.info.description << "\n"
                << "    format " << tasks::to_string(t.info.format) << " (and text-to-text); metrics " << join(t.info.metrics)
                << "\n";
      if (!t.info.labels.empty()) std::cout << "    labels " << join(t.info.labels) << "\n";
      for (const auto& [split, names] : t.info.files)
        std::cout << "    " << tasks::to_string(split) << ": " << join(names) << "\n";
    }
  });
}

}  // namespace petlab::cli
