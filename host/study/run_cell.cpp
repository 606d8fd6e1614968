#include "study/run_cell.hpp"

#include "artifacts/artifact.hpp"
#include "backbone/device.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "study/files.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/trainer.hpp"

#include <petlab/tasks/registry.hpp>
#include <petlab/tasks/splits.hpp>

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

namespace petlab {
namespace fs = std::filesystem;
namespace {

double peak_rss_mb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

void set_threads(const nlohmann::json& train) {
  int64_t threads = train.value("threads", int64_t{0});
  if (threads <= 0)
    if (const char* env = std::getenv("PETLAB_WORKER_THREADS")) threads = std::atoll(env);
  if (threads > 0) at::set_num_threads(static_cast<int>(threads));
}

nlohmann::json result_skeleton(const nlohmann::json& spec) {
  const auto& methods = spec.at("methods");
  return {{"study", spec.value("study", "")},
          {"cell", spec.value("cell", "")},
          {"seed", spec.value("seed", uint64_t{0})},
          {"task", spec.value("task", "")},
          {"method", methods.empty() ? "" : methods[0].value("id", "")},
          {"method_label", spec.value("method_label", "")},
          {"knobs", methods.empty() ? nlohmann::json::object() : methods[0].value("knobs", nlohmann::json::object())},
          {"methods", methods},
          {"train_size", spec.value("train_size", nlohmann::json())},
          {"protocol", spec.value("protocol", "fair")},
          {"error", nullptr}};
}

/// Trains and evaluates; fills `result`. Throws on anything that makes the run fail.
void train_and_evaluate(const nlohmann::json& spec, const fs::path& run_dir, const std::vector<std::string>& plugin_paths,
                        nlohmann::json& result) {
  const auto wall_start = std::chrono::steady_clock::now();
  const nlohmann::json& backbone_spec = spec.at("backbone");
  const fs::path model_dir = backbone_spec.at("model").get<std::string>();
  const uint64_t init_seed = spec.value("init_seed", uint64_t{0}), data_seed = spec.value("data_seed", uint64_t{0});
  const nlohmann::json& train = spec.at("train");
  set_threads(train);

  const tasks::Task& task = tasks::TaskRegistry::builtin().get(spec.at("task").get<std::string>());
  tasks::SplitOptions split_options;
  split_options.protocol = tasks::parse_protocol(spec.value("protocol", "fair"));
  if (spec.contains("train_size") && !spec["train_size"].is_null())
    split_options.train_size = spec["train_size"].get<size_t>();
  split_options.data_seed = data_seed;
  const tasks::Splits splits = tasks::load_splits(task, spec.at("data").get<std::string>(), split_options);
  for (const auto& note : splits.notes) log::info("{}", note);

  const auto tokenizer = tok::load_tokenizer(model_dir);
  auto backbone = load_backbone(model_dir, {.device = backbone_spec.value("device", "cpu"),
                                            .dtype = backbone_spec.value("dtype", "fp32")});
  backbone->surface().tokenizer = tokenizer.get();
  MethodRegistry registry;
  registry.load_directories(plugin_search_path(plugin_paths));
  std::vector<MethodSpec> methods;
  for (const auto& m : spec.at("methods")) methods.push_back({m.at("id"), m.value("knobs", nlohmann::json::object())});
  TunedModel model(backbone, train::head_for_task(task, backbone->is_encoder_decoder()), methods, registry, init_seed);
  const ParameterCount count = model.count();
  log::info("trainable parameters: {} ({:.4f}% of the backbone's {})", count.trainable, count.percent_of_backbone(),
            count.backbone);

  const train::EncodeOptions encode{.max_length = backbone_spec.value("max_length", size_t{128}),
                                    .max_target_length = static_cast<size_t>(train.value("max_new_tokens", int64_t{64})),
                                    .text_to_text = backbone->is_encoder_decoder()};
  const auto train_set = train::encode_dataset(task, splits.train, *tokenizer, encode);
  const auto dev_set = train::encode_dataset(task, splits.dev, *tokenizer, encode);

  std::ofstream curve_file(run_dir / "curve.jsonl", std::ios::app);
  const auto curve = [&](const nlohmann::json& point) { curve_file << point.dump() << std::endl; };

  const c10::Device device = parse_device(backbone_spec.value("device", "cpu"));
  AutocastScope autocast(device, parse_precision(backbone_spec.value("dtype", "fp32"), device));
  train::Trainer trainer(model, task, *tokenizer, train::TrainerOptions::from_json(train), data_seed);
  const train::TrainOutcome outcome = trainer.fit(train_set, dev_set, splits.dev, curve);

  result["status"] = outcome.status;
  result["metric"] = task.info.metrics.empty() ? "loss" : task.info.metrics.front();
  result["best_dev"] = outcome.best_dev ? outcome.best_dev->to_json() : nlohmann::json();
  if (outcome.status == "diverged") {
    result["error"] = outcome.error;
    result["test"] = nullptr;
  } else if (split_options.protocol == tasks::Protocol::legacy) {
    result["test"] = result["best_dev"];  // what earlier work reported: the dev score of the selected checkpoint
  } else {
    // The fair protocol's one look at the test set, with the best dev state.
    const auto test_set = train::encode_dataset(task, splits.test, *tokenizer, encode);
    result["test"] = trainer.evaluate(test_set, splits.test).to_json();
  }
  if (train.value("save_adapter", false) && outcome.status == "finished") save_artifact(model, run_dir / "adapter");

  result["trainable_params"] = count.trainable;
  result["percent_trainable"] = count.percent_of_backbone();
  result["steps"] = outcome.steps;
  result["steps_to_best"] = outcome.steps_to_best;
  result["wall_time_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result["train_time_s"] = outcome.train_seconds;
  result["tokens_per_s"] = outcome.train_seconds > 0 ? outcome.train_tokens / outcome.train_seconds : 0.0;
  result["peak_rss_mb"] = peak_rss_mb();
}

}  // namespace

int run_cell(const fs::path& spec_file, const std::vector<std::string>& plugin_paths) {
  const nlohmann::json spec = read_json_file(spec_file);
  const fs::path run_dir = spec_file.parent_path();
  nlohmann::json result = result_skeleton(spec);
  try {
    train_and_evaluate(spec, run_dir, plugin_paths, result);
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    result["status"] = "failed";
    result["error"] = e.what();
    result["peak_rss_mb"] = peak_rss_mb();
  }
  write_json_atomically(run_dir / "result.json", result);
  return result["status"] == "failed" ? 1 : 0;
}

}  // namespace petlab
