// Protocols and data scales: what the fair, legacy and official protocols make of the official files, and
// stratified, seeded train_size subsampling.
#include "task_files.hpp"

#include "petlab/tasks/registry.hpp"
#include "petlab/tasks/splits.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

using petlab::testing::TempDir;
using namespace petlab::tasks;

namespace {

// An RTE folder: train with `n` rows (a third not_entailment), dev with 10, optional labelled test.
void write_rte(const TempDir& dir, int n) {
  std::string train = "index\tsentence1\tsentence2\tlabel\n";
  for (int i = 0; i < n; ++i)
    train += std::to_string(i) + "\tpremise " + std::to_string(i) + "\thypothesis\t" + (i % 3 == 0 ? "not_entailment" : "entailment") + "\n";
  dir.write("train.tsv", train);
  std::string dev = "index\tsentence1\tsentence2\tlabel\n";
  for (int i = 0; i < 10; ++i) dev += std::to_string(i) + "\tdev premise\thypothesis\tentailment\n";
  dir.write("dev.tsv", dev);
}

std::set<std::string> ids(const std::vector<Example>& v) {
  std::set<std::string> s;
  for (const auto& e : v) s.insert(e.id);
  return s;
}

std::map<int, int> label_counts(const std::vector<Example>& v) {
  std::map<int, int> m;
  for (const auto& e : v) ++m[e.label];
  return m;
}

std::string error_of(const Task& task, const std::filesystem::path& dir, const SplitOptions& o) {
  try {
    load_splits(task, dir, o);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("fair: dev is carved from train (stratified, fixed seed) and the official dev becomes test") {
  TempDir dir("fair");
  write_rte(dir, 300);
  const auto& rte = TaskRegistry::builtin().get("glue/rte");
  const auto s = load_splits(rte, dir.path(), {});
  CHECK(s.dev.size() == 30);  // 10% of 300
  CHECK(s.train.size() == 270);
  CHECK(s.test.size() == 10);
  CHECK(s.test[0].texts[0] == "dev premise");
  // Disjoint, and together exactly the official train.
  const auto train_ids = ids(s.train), dev_ids = ids(s.dev);
  for (const auto& id : dev_ids) CHECK(train_ids.count(id) == 0);
  CHECK(train_ids.size() + dev_ids.size() == 300);
  // Stratified: a third of dev is not_entailment, as in train.
  CHECK(label_counts(s.dev)[1] == 10);
  // The split seed is fixed: the same dev on every load; another seed gives another dev.
  CHECK(ids(load_splits(rte, dir.path(), {}).dev) == dev_ids);
  SplitOptions other;
  other.split_seed = 7;
  CHECK(ids(load_splits(rte, dir.path(), other).dev) != dev_ids);
}

TEST_CASE("fair: grouped examples (MultiRC questions) never straddle train and dev") {
  TempDir dir("fair-groups");
  std::string lines;
  for (int p = 0; p < 20; ++p) {
    lines += "{\"idx\": " + std::to_string(p) + ", \"passage\": {\"text\": \"t\", \"questions\": [";
    for (int q = 0; q < 2; ++q) {
      lines += std::string(q ? "," : "") + "{\"question\": \"q\", \"idx\": " + std::to_string(q) + ", \"answers\": [";
      for (int a = 0; a < 3; ++a)
        lines += std::string(a ? "," : "") + "{\"text\": \"a\", \"idx\": " + std::to_string(a) + ", \"label\": " + std::to_string(a % 2) + "}";
      lines += "]}";
    }
    lines += "]}}\n";
  }
  dir.write("train.jsonl", lines);
  dir.write("val.jsonl", lines);
  const auto s = load_splits(TaskRegistry::builtin().get("superglue/multirc"), dir.path(), {});
  CHECK(s.dev.size() == 4 * 3);  // 10% of 40 questions, 3 answers each
  std::set<std::string> train_groups;
  for (const auto& e : s.train) train_groups.insert(e.group);
  for (const auto& e : s.dev) CHECK(train_groups.count(e.group) == 0);
}

TEST_CASE("legacy: the official dev serves selection and report, official: needs labelled test data") {
  TempDir dir("legacy");
  write_rte(dir, 30);
  const auto& rte = TaskRegistry::builtin().get("glue/rte");
  SplitOptions legacy;
  legacy.protocol = Protocol::legacy;
  const auto s = load_splits(rte, dir.path(), legacy);
  CHECK(s.train.size() == 30);
  CHECK(ids(s.dev) == ids(s.test));
  CHECK(s.dev.size() == 10);

  SplitOptions official;
  official.protocol = Protocol::official;
  CHECK(error_of(rte, dir.path(), official).find("no test file") != std::string::npos);
  dir.write("test.tsv", "index\tsentence1\tsentence2\n0\ta\tb\n");
  CHECK(error_of(rte, dir.path(), official).find("test.tsv: the file has no labels (the official protocol needs labelled test data)") !=
        std::string::npos);
  dir.write("test_labeled.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n");
  const auto o = load_splits(rte, dir.path(), official);
  CHECK(o.test.size() == 1);
  CHECK(o.train.size() == 30);
}

TEST_CASE("train_size subsamples train stratified by label with the data seed") {
  TempDir dir("scale");
  write_rte(dir, 600);
  const auto& rte = TaskRegistry::builtin().get("glue/rte");
  SplitOptions o;
  o.train_size = 60;
  o.data_seed = 1;
  const auto a = load_splits(rte, dir.path(), o);
  CHECK(a.train.size() == 60);
  CHECK(label_counts(a.train)[1] == 20);  // a third, as in the full train split
  CHECK(a.dev.size() == 60);              // dev is carved before subsampling and does not shrink
  CHECK(ids(load_splits(rte, dir.path(), o).train) == ids(a.train));
  o.data_seed = 2;
  CHECK(ids(load_splits(rte, dir.path(), o).train) != ids(a.train));
  o.train_size = 2;  // tiny: still one of each class
  CHECK(label_counts(load_splits(rte, dir.path(), o).train).size() == 2);
}

TEST_CASE("AG News has no official dev: fair keeps its labelled test as test") {
  TempDir dir("agnews-fair");
  std::string train;
  for (int i = 0; i < 40; ++i) train += "\"" + std::to_string(i % 4 + 1) + "\",\"t\",\"d\"\n";
  dir.write("train.csv", train);
  dir.write("test.csv", "\"1\",\"t\",\"d\"\n\"2\",\"t\",\"d\"\n");
  const auto s = load_splits(TaskRegistry::builtin().get("agnews"), dir.path(), {});
  CHECK(s.dev.size() == 4);
  CHECK(s.test.size() == 2);
}

TEST_CASE("a missing split names the files looked for") {
  TempDir dir("missing");
  dir.write("dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n");
  const auto msg = error_of(TaskRegistry::builtin().get("glue/rte"), dir.path(), {});
  CHECK(msg.find("glue/rte: no train file in") != std::string::npos);
  CHECK(msg.find("looked for train.tsv, train.jsonl") != std::string::npos);
  CHECK(error_of(TaskRegistry::builtin().get("glue/rte"), dir.path() / "nope", {}).find("no such data directory") != std::string::npos);
}
