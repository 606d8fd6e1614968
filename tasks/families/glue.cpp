// GLUE: CoLA, SST-2, MRPC, QQP, STS-B, MNLI (matched and mismatched), QNLI, RTE, WNLI.
// Reads GLUE's TSVs (unquoted, header by name; CoLA without one; MRPC's MSR files with their BOM) and
// HF `datasets` JSONL exports (label -1 = unlabelled).
#include "common.hpp"

#include "petlab/tasks/metrics.hpp"
#include "petlab/tasks/registry.hpp"

#include <cmath>
#include <cstdio>
#include <memory>

namespace petlab::tasks {

namespace {

struct GlueSpec {
  std::string name, description;
  std::vector<std::string> text_fields;      ///< our names for Example::texts
  std::vector<std::string> tsv_columns;      ///< the TSV header names of those texts
  std::string tsv_label;                     ///< label column ("" = none)
  std::vector<std::string> tsv_label_values; ///< raw label per class (empty: a regression score)
  std::string tsv_id;                        ///< id column ("" = the data row number)
  std::vector<std::string> implicit_header;  ///< names for header-less files (CoLA)
  std::vector<std::string> hf_fields;        ///< HF JSONL names of the texts
  std::vector<std::string> labels, label_words, metrics;
  std::string t5_template;
  std::vector<std::string> dev_files = {"dev.tsv", "validation.jsonl"};
  std::vector<std::string> test_files = {"test_labeled.tsv", "test.tsv", "test.jsonl"};
};

// The table of a GLUE TSV with its header resolved (CoLA's train/dev have none; its test has "index sentence").
Table read_glue_table(const std::filesystem::path& path, const GlueSpec& spec) {
  if (spec.implicit_header.empty()) return read_tsv(path, {.header = true});
  Table t = read_tsv(path, {.header = false});
  if (!t.rows.empty() && !t.rows.front().fields.empty() && t.rows.front().fields.front() == "index") {
    t.header = t.rows.front().fields;
    t.rows.erase(t.rows.begin());
  } else {
    t.header = spec.implicit_header;
  }
  for (const auto& row : t.rows)
    if (row.fields.size() != t.header.size())
      fail(t.where(row), "expected " + std::to_string(t.header.size()) + " tab-separated columns, found " +
                             std::to_string(row.fields.size()));
  return t;
}

std::vector<Example> read_tsv_examples(const std::filesystem::path& path, const GlueSpec& spec) {
  const Table t = read_glue_table(path, spec);
  std::vector<std::size_t> text_cols;
  for (const auto& c : spec.tsv_columns) text_cols.push_back(t.column(c));
  const auto label_col = spec.tsv_label.empty() ? std::nullopt : t.find_column(spec.tsv_label);
  const auto id_col = spec.tsv_id.empty() ? std::nullopt : t.find_column(spec.tsv_id);
  family::IdChecker ids;
  std::vector<Example> out;
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const Row& row = t.rows[r];
    Example e;
    e.id = id_col ? row.fields[*id_col] : std::to_string(r);
    ids.add(e.id, t.where(row));
    for (std::size_t c : text_cols) e.texts.push_back(row.fields[c]);
    if (label_col) {
      const std::string& raw = row.fields[*label_col];
      if (spec.tsv_label_values.empty()) {
        char* end = nullptr;
        e.target = std::strtod(raw.c_str(), &end);
        if (raw.empty() || end != raw.c_str() + raw.size() || !std::isfinite(e.target))
          fail(t.where(row), "column '" + spec.tsv_label + "' should be a number, found '" + raw + "'");
      } else {
        e.label = family::parse_label(raw, spec.tsv_label_values, t.where(row), "'" + spec.tsv_label + "'");
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Example> read_jsonl_examples(const std::filesystem::path& path, const GlueSpec& spec) {
  family::IdChecker ids;
  std::vector<Example> out;
  std::size_t row = 0;
  for (const auto& r : read_jsonl(path)) {
    const Where where{path.string(), r.line};
    Example e;
    e.id = json_field::find(r.value, "idx") ? json_field::id(r.value, "idx", where) : std::to_string(row);
    ++row;
    ids.add(e.id, where);
    for (const auto& f : spec.hf_fields) e.texts.push_back(json_field::string(r.value, f, where));
    if (const auto* label = json_field::find(r.value, "label")) {
      if (spec.tsv_label_values.empty()) {
        if (!label->is_number()) fail(where, "key \"label\" should be a number, found " + json_field::type_name(*label));
        if (label->get<double>() != -1) e.target = label->get<double>();
      } else {
        if (!label->is_number_integer())
          fail(where, "key \"label\" should be an integer class, found " + json_field::type_name(*label));
        const long long v = label->get<long long>();
        if (v < -1 || v >= static_cast<long long>(spec.labels.size()))
          fail(where, "label " + std::to_string(v) + " is out of range (expected -1 for unlabelled or 0.." +
                          std::to_string(spec.labels.size() - 1) + ")");
        e.label = static_cast<int>(v);
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string stsb_target(double score) {  // T5 rounds STS-B scores to the nearest 0.2
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.1f", std::round(score * 5.0) / 5.0);
  return buffer;
}

void add(TaskRegistry& registry, const GlueSpec& spec) {
  auto shared = std::make_shared<const GlueSpec>(spec);
  Task task;
  TaskInfo& info = task.info;
  info.id = "glue/" + spec.name;
  info.family = "glue";
  info.description = spec.description;
  info.format = spec.tsv_label_values.empty() ? Format::regression : Format::classification;
  info.text_fields = spec.text_fields;
  info.labels = spec.labels;
  info.label_words = spec.label_words;
  info.metrics = spec.metrics;
  info.files = {{OfficialSplit::train, {"train.tsv", "train.jsonl"}},
                {OfficialSplit::dev, spec.dev_files},
                {OfficialSplit::test, spec.test_files}};
  task.read = [shared](const std::filesystem::path& p) {
    return family::has_extension(p, ".jsonl") ? read_jsonl_examples(p, *shared) : read_tsv_examples(p, *shared);
  };
  task.count_records = [shared](const std::filesystem::path& p) {
    return family::has_extension(p, ".jsonl") ? family::count_jsonl(p) : read_glue_table(p, *shared).rows.size();
  };
  task.to_text = [shared](const Example& e) {
    TextToText t{family::render(shared->t5_template, e.texts), ""};
    if (e.label >= 0 && e.label < static_cast<int>(shared->label_words.size())) t.target = shared->label_words[e.label];
    else if (!std::isnan(e.target)) t.target = stsb_target(e.target);
    return t;
  };
  if (info.format == Format::regression) {
    task.score = [](const std::vector<Example>& examples, const std::vector<Prediction>& predictions) {
      family::require_labelled(examples);
      std::vector<double> truth, predicted;
      for (std::size_t i = 0; i < examples.size(); ++i) {
        truth.push_back(examples[i].target);
        predicted.push_back(family::prediction_number(predictions.at(i)));
      }
      const double p = 100 * metrics::pearson(truth, predicted), s = 100 * metrics::spearman(truth, predicted);
      return Scores{{"combined", (p + s) / 2}, {"pearson", p}, {"spearman", s}};
    };
  } else {
    task.score = family::label_scorer(info);
  }
  registry.add(std::move(task));
}

}  // namespace

void register_glue(TaskRegistry& registry) {
  const std::vector<std::string> nli3 = {"entailment", "neutral", "contradiction"};
  const std::vector<std::string> nli2 = {"entailment", "not_entailment"};
  GlueSpec cola{.name = "cola", .description = "CoLA: grammatical acceptability (MCC)",
                .text_fields = {"sentence"}, .tsv_columns = {"sentence"}, .tsv_label = "label",
                .tsv_label_values = {"0", "1"}, .tsv_id = "index",
                .implicit_header = {"source", "label", "original_label", "sentence"}, .hf_fields = {"sentence"},
                .labels = {"unacceptable", "acceptable"}, .label_words = {"unacceptable", "acceptable"},
                .metrics = {"mcc", "accuracy"}, .t5_template = "cola sentence: {0}"};
  GlueSpec sst2{.name = "sst2", .description = "SST-2: sentiment of movie review sentences",
                .text_fields = {"sentence"}, .tsv_columns = {"sentence"}, .tsv_label = "label",
                .tsv_label_values = {"0", "1"}, .tsv_id = "index", .hf_fields = {"sentence"},
                .labels = {"negative", "positive"}, .label_words = {"negative", "positive"},
                .metrics = {"accuracy"}, .t5_template = "sst2 sentence: {0}"};
  GlueSpec mrpc{.name = "mrpc", .description = "MRPC: paraphrase (MSR format, byte-order mark)",
                .text_fields = {"sentence1", "sentence2"}, .tsv_columns = {"#1 String", "#2 String"},
                .tsv_label = "Quality", .tsv_label_values = {"0", "1"}, .tsv_id = "index",
                .hf_fields = {"sentence1", "sentence2"}, .labels = {"not_equivalent", "equivalent"},
                .label_words = {"not_equivalent", "equivalent"}, .metrics = {"combined", "f1", "accuracy"},
                .t5_template = "mrpc sentence1: {0} sentence2: {1}"};
  mrpc.dev_files = {"dev.tsv", "msr_paraphrase_dev.txt", "validation.jsonl"};
  mrpc.test_files = {"msr_paraphrase_test.txt", "test.tsv", "test.jsonl"};
  GlueSpec qqp{.name = "qqp", .description = "QQP: duplicate Quora questions",
               .text_fields = {"question1", "question2"}, .tsv_columns = {"question1", "question2"},
               .tsv_label = "is_duplicate", .tsv_label_values = {"0", "1"}, .tsv_id = "id",
               .hf_fields = {"question1", "question2"}, .labels = {"not_duplicate", "duplicate"},
               .label_words = {"not_duplicate", "duplicate"}, .metrics = {"combined", "f1", "accuracy"},
               .t5_template = "qqp question1: {0} question2: {1}"};
  GlueSpec stsb{.name = "stsb", .description = "STS-B: semantic similarity score 0-5 (regression)",
                .text_fields = {"sentence1", "sentence2"}, .tsv_columns = {"sentence1", "sentence2"},
                .tsv_label = "score", .tsv_id = "index", .hf_fields = {"sentence1", "sentence2"},
                .metrics = {"combined", "pearson", "spearman"}, .t5_template = "stsb sentence1: {0} sentence2: {1}"};
  GlueSpec mnli{.name = "mnli", .description = "MNLI: entailment, matched dev",
                .text_fields = {"premise", "hypothesis"}, .tsv_columns = {"sentence1", "sentence2"},
                .tsv_label = "gold_label", .tsv_label_values = nli3, .tsv_id = "index",
                .hf_fields = {"premise", "hypothesis"}, .labels = nli3, .label_words = nli3,
                .metrics = {"accuracy"}, .t5_template = "mnli hypothesis: {1} premise: {0}"};
  mnli.dev_files = {"dev_matched.tsv", "validation_matched.jsonl"};
  mnli.test_files = {"test_matched.tsv", "test_matched.jsonl"};
  GlueSpec mnli_mm = mnli;
  mnli_mm.name = "mnli-mm";
  mnli_mm.description = "MNLI: entailment, mismatched dev";
  mnli_mm.dev_files = {"dev_mismatched.tsv", "validation_mismatched.jsonl"};
  mnli_mm.test_files = {"test_mismatched.tsv", "test_mismatched.jsonl"};
  GlueSpec qnli{.name = "qnli", .description = "QNLI: does the sentence answer the question",
                .text_fields = {"question", "sentence"}, .tsv_columns = {"question", "sentence"},
                .tsv_label = "label", .tsv_label_values = nli2, .tsv_id = "index",
                .hf_fields = {"question", "sentence"}, .labels = nli2, .label_words = nli2,
                .metrics = {"accuracy"}, .t5_template = "qnli question: {0} sentence: {1}"};
  GlueSpec rte{.name = "rte", .description = "RTE: textual entailment",
               .text_fields = {"sentence1", "sentence2"}, .tsv_columns = {"sentence1", "sentence2"},
               .tsv_label = "label", .tsv_label_values = nli2, .tsv_id = "index",
               .hf_fields = {"sentence1", "sentence2"}, .labels = nli2, .label_words = nli2,
               .metrics = {"accuracy"}, .t5_template = "rte sentence1: {0} sentence2: {1}"};
  GlueSpec wnli{.name = "wnli", .description = "WNLI: Winograd entailment",
                .text_fields = {"sentence1", "sentence2"}, .tsv_columns = {"sentence1", "sentence2"},
                .tsv_label = "label", .tsv_label_values = {"0", "1"}, .tsv_id = "index",
                .hf_fields = {"sentence1", "sentence2"}, .labels = {"not_entailment", "entailment"},
                .label_words = {"not_entailment", "entailment"}, .metrics = {"accuracy"},
                .t5_template = "wnli sentence1: {0} sentence2: {1}"};
  for (const auto* spec : {&cola, &sst2, &mrpc, &qqp, &stsb, &mnli, &mnli_mm, &qnli, &rte, &wnli}) add(registry, *spec);
}

}  // namespace petlab::tasks
