// The registry of tasks, filled once by the families' register functions.
#include "petlab/tasks/registry.hpp"
#include "petlab/tasks/error.hpp"

namespace petlab::tasks {

void TaskRegistry::add(Task task) {
  if (find(task.info.id)) throw DataError("task '" + task.info.id + "' is registered twice");
  tasks_.push_back(std::move(task));
}

const Task* TaskRegistry::find(std::string_view id) const {
  for (const auto& t : tasks_)
    if (t.info.id == id) return &t;
  return nullptr;
}

const Task& TaskRegistry::get(std::string_view id) const {
  if (const Task* t = find(id)) return *t;
  std::string known;
  for (const auto& t : tasks_) known += (known.empty() ? "" : ", ") + t.info.id;
  throw DataError("unknown task '" + std::string(id) + "' (known tasks: " + known + ")");
}

const TaskRegistry& TaskRegistry::builtin() {
  static const TaskRegistry registry = [] {
    TaskRegistry r;
    register_glue(r);
    register_superglue(r);
    register_e2e(r);
    register_samsum(r);
    register_agnews(r);
    return r;
  }();
  return registry;
}

}  // namespace petlab::tasks
