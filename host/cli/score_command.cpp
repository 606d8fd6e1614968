// `petlab score --task ID --data DIR --split dev|test --predictions FILE.jsonl`: the task's metrics as JSON.
#include "cli/commands.hpp"

#include <petlab/tasks/predictions.hpp>
#include <petlab/tasks/registry.hpp>
#include <petlab/tasks/splits.hpp>

#include <nlohmann/json.hpp>

#include <iostream>

namespace petlab::cli {

namespace {
struct ScoreOptions {
  std::string task, data, split, predictions, protocol = "fair";
};
}  // namespace

void add_score_command(CLI::App& app, const GlobalOptions&) {
  auto* cmd = app.add_subcommand("score", "Score a predictions file against a split; prints the metrics as JSON");
  auto o = std::make_shared<ScoreOptions>();
  cmd->add_option("--task", o->task, "Task id (see `petlab tasks`)")->required();
  cmd->add_option("--data", o->data, "The task's data directory")->required();
  cmd->add_option("--split", o->split, "dev or test (after the protocol's split)")->required();
  cmd->add_option("--predictions", o->predictions, "JSONL with one {\"id\": ..., \"prediction\": ...} per line")->required();
  cmd->add_option("--protocol", o->protocol, "fair, legacy or official")->capture_default_str();
  cmd->callback([o] {
    const auto& task = tasks::TaskRegistry::builtin().get(o->task);
    const auto split = tasks::parse_split(o->split);
    if (split == tasks::Split::train) throw tasks::DataError("--split must be dev or test");
    tasks::SplitOptions options;
    options.protocol = tasks::parse_protocol(o->protocol);
    options.require_train = false;  // scoring reads only the evaluated split's files
    const auto splits = tasks::load_splits(task, o->data, options);
    const auto& examples = splits.get(split);
    const auto predictions = tasks::read_predictions(o->predictions);
    const auto aligned = tasks::align_predictions(examples, predictions, o->predictions, o->split);
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [name, value] : task.score(examples, aligned)) metrics[name] = value;
    nlohmann::json out = {{"task", task.info.id}, {"split", o->split}, {"protocol", o->protocol},
                          {"main_metric", task.info.metrics.front()},
                          {"examples", examples.size()}, {"metrics", metrics}};
    std::cout << out.dump(2) << "\n";
  });
}

}  // namespace petlab::cli
