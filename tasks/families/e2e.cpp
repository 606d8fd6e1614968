// E2E NLG: meaning representation -> restaurant description. The CSVs hold one row per reference
// (`mr,ref`); rows are grouped into one example per MR with all its references.
#include "common.hpp"

#include "petlab/tasks/bleu.hpp"
#include "petlab/tasks/registry.hpp"
#include "petlab/tasks/rouge.hpp"

#include <map>

namespace petlab::tasks {

namespace {

struct Groups {
  std::vector<Example> examples;
  std::map<std::string, std::size_t> index;

  // Groups by MR in order of first appearance (the official files list an MR's references together).
  void add(const std::string& mr, const std::string* ref) {
    auto [it, inserted] = index.try_emplace(mr, examples.size());
    if (inserted) {
      Example e;
      e.id = std::to_string(examples.size());
      e.texts = {mr};
      examples.push_back(std::move(e));
    }
    if (ref) examples[it->second].answers.push_back(*ref);
  }
};

std::optional<std::size_t> find_any(const Table& t, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (auto c = t.find_column(n)) return c;
  return std::nullopt;
}

Table read_e2e_csv(const std::filesystem::path& path) { return read_csv(path, {.header = true}); }

std::vector<Example> read_e2e(const std::filesystem::path& path) {
  Groups groups;
  if (family::has_extension(path, ".jsonl")) {
    for (const auto& r : read_jsonl(path)) {
      const Where where{path.string(), r.line};
      const std::string mr = json_field::string(r.value, "meaning_representation", where);
      const auto* ref = json_field::find(r.value, "human_reference");
      if (ref && !ref->is_string()) fail(where, "key \"human_reference\" should be a string, found " + json_field::type_name(*ref));
      const std::string ref_text = ref ? ref->get<std::string>() : "";
      groups.add(mr, ref ? &ref_text : nullptr);
    }
    return std::move(groups.examples);
  }
  const Table t = read_e2e_csv(path);
  const auto mr = find_any(t, {"mr", "MR"});
  if (!mr) t.column("mr");  // fails naming the header it has
  const auto ref = find_any(t, {"ref", "REF"});
  for (const auto& row : t.rows) {
    if (row.fields[*mr].empty()) fail(t.where(row), "empty meaning representation");
    groups.add(row.fields[*mr], ref ? &row.fields[*ref] : nullptr);
  }
  return std::move(groups.examples);
}

}  // namespace

void register_e2e(TaskRegistry& registry) {
  Task task;
  task.info = {.id = "e2e",
               .family = "e2e",
               .description = "E2E NLG: restaurant meaning representation -> text (BLEU, ROUGE-L over grouped references)",
               .format = Format::generation,
               .text_fields = {"meaning_representation"},
               .metrics = {"bleu", "rougeL"},
               .files = {{OfficialSplit::train, {"trainset.csv", "train.jsonl"}},
                         {OfficialSplit::dev, {"devset.csv", "validation.jsonl"}},
                         {OfficialSplit::test, {"testset_w_refs.csv", "testset.csv", "test.jsonl"}}}};
  task.read = read_e2e;
  task.count_records = [](const std::filesystem::path& p) {
    return family::has_extension(p, ".jsonl") ? family::count_jsonl(p) : read_e2e_csv(p).rows.size();
  };
  task.to_text = [](const Example& e) {
    return TextToText{"e2e meaning representation: " + e.texts[0], e.answers.empty() ? "" : e.answers.front()};
  };
  task.score = [](const std::vector<Example>& examples, const std::vector<Prediction>& predictions) {
    family::require_labelled(examples);
    std::vector<std::string> hypotheses;
    std::vector<std::vector<std::string>> references;
    double rouge_l = 0;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      hypotheses.push_back(family::prediction_text(predictions.at(i)));
      references.push_back(examples[i].answers);
      rouge_l += rouge::score_multi(examples[i].answers, hypotheses.back(), true).rougeL.fmeasure;
    }
    const double n = examples.empty() ? 1.0 : static_cast<double>(examples.size());
    return Scores{{"bleu", bleu::corpus_bleu(hypotheses, references).score}, {"rougeL", 100 * rouge_l / n}};
  };
  registry.add(std::move(task));
}

}  // namespace petlab::tasks
