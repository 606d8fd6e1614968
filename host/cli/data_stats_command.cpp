// `petlab data stats --task ID --data DIR [--json] [--protocol P] [--train-size N] [--seed S]`: examples per
// split after the protocol, label distribution and text length percentiles.
#include "cli/commands.hpp"

#include <petlab/tasks/registry.hpp>
#include <petlab/tasks/stats.hpp>

#include <iostream>

namespace petlab::cli {

namespace {
struct StatsOptions {
  std::string task, data, protocol = "fair";
  bool json = false;
  std::optional<std::size_t> train_size;
  std::uint64_t seed = 0;
};
}  // namespace

void add_data_stats_command(CLI::App& data) {
  auto* cmd = data.add_subcommand("stats", "Examples per split, label distribution and text lengths of a task's data");
  auto o = std::make_shared<StatsOptions>();
  cmd->add_option("--task", o->task, "Task id (see `petlab tasks`)")->required();
  cmd->add_option("--data", o->data, "The task's data directory")->required();
  cmd->add_option("--protocol", o->protocol, "fair, legacy or official")->capture_default_str();
  cmd->add_option("--train-size", o->train_size, "Subsample train to N examples (stratified)");
  cmd->add_option("--seed", o->seed, "Data seed of the --train-size subsample")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->callback([o] {
    const auto& task = tasks::TaskRegistry::builtin().get(o->task);
    tasks::SplitOptions options;
    options.protocol = tasks::parse_protocol(o->protocol);
    options.train_size = o->train_size;
    options.data_seed = o->seed;
    options.require_train = false;  // stats also describe folders that hold only evaluation files
    const auto splits = tasks::load_splits(task, o->data, options);
    const auto stats = tasks::split_stats(task, splits, options);
    std::cout << (o->json ? stats.dump(2) + "\n" : tasks::stats_text(stats));
  });
}

}  // namespace petlab::cli
