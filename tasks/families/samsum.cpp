// SAMSum: dialogue summarisation. The distribution is a JSON list of {id, summary, dialogue}.
#include "common.hpp"

#include "petlab/tasks/registry.hpp"
#include "petlab/tasks/rouge.hpp"

namespace petlab::tasks {

namespace {

std::vector<Example> read_samsum(const std::filesystem::path& path) {
  const auto records = family::has_extension(path, ".jsonl") ? read_jsonl(path) : read_json_list(path);
  family::IdChecker ids;
  std::vector<Example> out;
  for (const auto& r : records) {
    const Where where{path.string(), r.line};
    Example e;
    e.id = json_field::id(r.value, "id", where);
    ids.add(e.id, where);
    e.texts = {json_field::string(r.value, "dialogue", where)};
    if (json_field::find(r.value, "summary")) e.answers = {json_field::string(r.value, "summary", where)};
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

void register_samsum(TaskRegistry& registry) {
  Task task;
  task.info = {.id = "samsum",
               .family = "samsum",
               .description = "SAMSum: messenger dialogue -> summary (ROUGE-1/2/L/Lsum, stemmed)",
               .format = Format::generation,
               .text_fields = {"dialogue"},
               .metrics = {"rouge1", "rouge2", "rougeL", "rougeLsum"},
               .files = {{OfficialSplit::train, {"train.json", "train.jsonl"}},
                         {OfficialSplit::dev, {"val.json", "validation.json", "validation.jsonl"}},
                         {OfficialSplit::test, {"test.json", "test.jsonl"}}}};
  task.read = read_samsum;
  task.count_records = [](const std::filesystem::path& p) {
    return family::has_extension(p, ".jsonl") ? family::count_jsonl(p) : family::count_json_list(p);
  };
  task.to_text = [](const Example& e) {
    return TextToText{"summarize: " + e.texts[0], e.answers.empty() ? "" : e.answers.front()};
  };
  task.score = [](const std::vector<Example>& examples, const std::vector<Prediction>& predictions) {
    family::require_labelled(examples);
    double r1 = 0, r2 = 0, rl = 0, rlsum = 0;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const auto s = rouge::score_multi(examples[i].answers, family::prediction_text(predictions.at(i)), true);
      r1 += s.rouge1.fmeasure;
      r2 += s.rouge2.fmeasure;
      rl += s.rougeL.fmeasure;
      rlsum += s.rougeLsum.fmeasure;
    }
    const double k = examples.empty() ? 0.0 : 100.0 / static_cast<double>(examples.size());
    return Scores{{"rouge1", r1 * k}, {"rouge2", r2 * k}, {"rougeL", rl * k}, {"rougeLsum", rlsum * k}};
  };
  registry.add(std::move(task));
}

}  // namespace petlab::tasks
