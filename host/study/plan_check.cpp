#include "study/plan_check.hpp"

#include "backbone/backbone.hpp"
#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/trainer.hpp"

#include <petlab/tasks/registry.hpp>

namespace petlab {

std::vector<CellCheck> check_plan(const Plan& plan, const MethodRegistry& registry) {
  std::vector<CellCheck> checks;
  if (plan.cells.empty()) return checks;
  // Every cell shares the study's backbone: load it (and its tokenizer, for prompt's text init) once and
  // attach each cell to a fresh copy of the weights.
  const std::filesystem::path model_dir = plan.cells.front().backbone.at("model").get<std::string>();
  const auto tokenizer = tok::load_tokenizer(model_dir);
  for (const Cell& cell : plan.cells) {
    CellCheck check{.cell = cell.id};
    try {
      auto backbone = load_backbone(model_dir);
      backbone->surface().tokenizer = tokenizer.get();
      const tasks::Task& task = tasks::TaskRegistry::builtin().get(cell.task);
      const TunedModel model(backbone, train::head_for_task(task, backbone->is_encoder_decoder()), cell.methods,
                             registry, cell.seeds.empty() ? 0 : cell.seeds.front());
      check.count = model.count();
    } catch (const std::exception& e) {
      check.error = e.what();
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

}  // namespace petlab
