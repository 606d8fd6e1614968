// The task registry: filled once, explicitly, by each family's register function (no static initialisers).
#pragma once

#include "petlab/tasks/task.hpp"

#include <string_view>
#include <vector>

namespace petlab::tasks {

class TaskRegistry {
 public:
  /// Adds a task; fails if its id is taken.
  void add(Task task);
  /// The task with this id; fails listing the known ids.
  const Task& get(std::string_view id) const;
  const Task* find(std::string_view id) const;
  const std::vector<Task>& all() const { return tasks_; }

  /// Every built-in task (GLUE, SuperGLUE, E2E, SAMSum, AG News), built on first use.
  static const TaskRegistry& builtin();

 private:
  std::vector<Task> tasks_;
};

void register_glue(TaskRegistry& registry);
void register_superglue(TaskRegistry& registry);
void register_e2e(TaskRegistry& registry);
void register_samsum(TaskRegistry& registry);
void register_agnews(TaskRegistry& registry);

}  // namespace petlab::tasks
