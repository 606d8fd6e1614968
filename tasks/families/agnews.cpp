// AG News: four-way topic classification. The CSVs have no header: "class","title","description" with
// classes 1-4 (a Kaggle-style "Class Index,Title,Description" header is accepted too).
#include "common.hpp"

#include "petlab/tasks/registry.hpp"

namespace petlab::tasks {

namespace {

const std::vector<std::string> kLabels = {"World", "Sports", "Business", "Sci/Tech"};

Table read_agnews_csv(const std::filesystem::path& path) {
  Table t = read_csv(path, {.header = false, .expected_columns = 3});
  if (!t.rows.empty() && t.rows.front().fields[0] == "Class Index") t.rows.erase(t.rows.begin());
  return t;
}

std::vector<Example> read_agnews(const std::filesystem::path& path) {
  std::vector<Example> out;
  if (family::has_extension(path, ".jsonl")) {
    for (const auto& r : read_jsonl(path)) {
      const Where where{path.string(), r.line};
      Example e;
      e.id = std::to_string(out.size());
      e.texts = {"", json_field::string(r.value, "text", where)};
      const long long label = json_field::integer(r.value, "label", where);
      if (label < -1 || label > 3) fail(where, "label " + std::to_string(label) + " is out of range (expected 0..3)");
      e.label = static_cast<int>(label);
      out.push_back(std::move(e));
    }
    return out;
  }
  const Table t = read_agnews_csv(path);
  for (const auto& row : t.rows) {
    Example e;
    e.id = std::to_string(out.size());
    e.label = family::parse_label(row.fields[0], {"1", "2", "3", "4"}, t.where(row), "class");
    e.texts = {row.fields[1], row.fields[2]};
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

void register_agnews(TaskRegistry& registry) {
  Task task;
  task.info = {.id = "agnews",
               .family = "agnews",
               .description = "AG News: topic of a news article (World, Sports, Business, Sci/Tech)",
               .format = Format::classification,
               .text_fields = {"title", "description"},
               .labels = kLabels,
               .label_words = kLabels,
               .metrics = {"accuracy"},
               .files = {{OfficialSplit::train, {"train.csv", "train.jsonl"}},
                         {OfficialSplit::test, {"test.csv", "test.jsonl"}}}};
  task.read = read_agnews;
  task.count_records = [](const std::filesystem::path& p) {
    return family::has_extension(p, ".jsonl") ? family::count_jsonl(p) : read_agnews_csv(p).rows.size();
  };
  task.to_text = [](const Example& e) {
    return TextToText{"agnews title: " + e.texts[0] + " description: " + e.texts[1],
                      e.label >= 0 ? kLabels[static_cast<std::size_t>(e.label)] : ""};
  };
  task.score = family::label_scorer(task.info);
  registry.add(std::move(task));
}

}  // namespace petlab::tasks
