// SuperGLUE: BoolQ, CB, COPA, MultiRC, ReCoRD, RTE, WiC, WSC and the diagnostics AX-b, AX-g.
// Reads SuperGLUE's JSONL (nested MultiRC passages/questions/answers, ReCoRD entities and queries, WSC
// spans, WiC offsets) and the flat JSONL that HF `datasets` exports, record by record.
#include "common.hpp"

#include "petlab/tasks/metrics.hpp"
#include "petlab/tasks/registry.hpp"

namespace petlab::tasks {

namespace {

using nlohmann::json;
namespace jf = json_field;

// A label given as a boolean (BoolQ, WiC, WSC, MultiRC), a class index (HF exports; -1 = unlabelled) or a
// class name (CB, RTE). A missing label means an unlabelled (test) example.
int json_label(const json& obj, const Where& where, const std::vector<std::string>& names, bool boolean) {
  const json* v = jf::find(obj, "label");
  if (!v || v->is_null()) return -1;
  if (v->is_boolean()) {
    if (!boolean) fail(where, "key \"label\" is a boolean, but this task's labels are " + [&] {
      std::string s;
      for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
      return s;
    }());
    return v->get<bool>() ? 1 : 0;
  }
  if (v->is_number_integer()) {
    const long long k = v->get<long long>();
    if (k < -1 || k >= static_cast<long long>(names.size()))
      fail(where, "label " + std::to_string(k) + " is out of range (expected -1 for unlabelled or 0.." +
                      std::to_string(names.size() - 1) + ")");
    return static_cast<int>(k);
  }
  if (v->is_string()) return family::parse_label(v->get<std::string>(), names, where, "\"label\"");
  fail(where, "key \"label\" should be a boolean, a class index or a class name, found " + jf::type_name(*v));
}

struct Reader {
  std::function<void(const json&, const Where&, std::size_t row, std::vector<Example>&)> read_record;
};

std::vector<Example> read_file(const std::filesystem::path& path, const Reader& reader) {
  std::vector<Example> out;
  family::IdChecker ids;
  std::size_t row = 0;
  for (const auto& r : read_jsonl(path)) {
    const Where where{path.string(), r.line};
    const std::size_t before = out.size();
    reader.read_record(r.value, where, row++, out);
    for (std::size_t i = before; i < out.size(); ++i) ids.add(out[i].id, where);
  }
  return out;
}

std::string record_id(const json& obj, const Where& where, std::size_t row) {
  return jf::find(obj, "idx") ? jf::id(obj, "idx", where) : std::to_string(row);
}

// Sentence-pair and question-passage tasks: texts by field name, one label.
Reader simple_reader(std::vector<std::string> fields, std::vector<std::string> names, bool boolean) {
  return {[=](const json& obj, const Where& where, std::size_t row, std::vector<Example>& out) {
    Example e;
    e.id = record_id(obj, where, row);
    for (const auto& f : fields) e.texts.push_back(jf::string(obj, f, where));
    e.label = json_label(obj, where, names, boolean);
    out.push_back(std::move(e));
  }};
}

Reader copa_reader() {
  return {[](const json& obj, const Where& where, std::size_t row, std::vector<Example>& out) {
    Example e;
    e.id = record_id(obj, where, row);
    e.texts = {jf::string(obj, "premise", where), jf::string(obj, "question", where)};
    if (e.texts[1] != "cause" && e.texts[1] != "effect")
      fail(where, "key \"question\" should be 'cause' or 'effect', found '" + e.texts[1] + "'");
    e.choices = {jf::string(obj, "choice1", where), jf::string(obj, "choice2", where)};
    e.label = json_label(obj, where, {"choice1", "choice2"}, false);
    out.push_back(std::move(e));
  }};
}

Reader multirc_reader() {
  return {[](const json& obj, const Where& where, std::size_t row, std::vector<Example>& out) {
    const std::vector<std::string> names = {"false", "true"};
    if (const json* paragraph = jf::find(obj, "paragraph")) {  // HF: one answer option per record
      if (!paragraph->is_string()) fail(where, "key \"paragraph\" should be a string, found " + jf::type_name(*paragraph));
      const json& idx = jf::object(obj, "idx", where);
      const std::string p = jf::id(idx, "paragraph", where), q = jf::id(idx, "question", where), a = jf::id(idx, "answer", where);
      Example e;
      e.id = p + "-" + q + "-" + a;
      e.group = p + "-" + q;
      e.texts = {paragraph->get<std::string>(), jf::string(obj, "question", where), jf::string(obj, "answer", where)};
      e.label = json_label(obj, where, names, true);
      out.push_back(std::move(e));
      return;
    }
    const std::string p = record_id(obj, where, row);
    const json& passage = jf::object(obj, "passage", where);
    const std::string text = jf::string(passage, "text", where);
    const json& questions = jf::array(passage, "questions", where);
    for (std::size_t qi = 0; qi < questions.size(); ++qi) {
      const json& question = questions[qi];
      const Where qwhere{where.file, where.line};
      if (!question.is_object()) fail(qwhere, "passage.questions[" + std::to_string(qi) + "] should be an object");
      const std::string q = jf::find(question, "idx") ? jf::id(question, "idx", qwhere) : std::to_string(qi);
      const std::string question_text = jf::string(question, "question", qwhere);
      const json& answers = jf::array(question, "answers", qwhere);
      for (std::size_t ai = 0; ai < answers.size(); ++ai) {
        const json& answer = answers[ai];
        if (!answer.is_object())
          fail(qwhere, "passage.questions[" + std::to_string(qi) + "].answers[" + std::to_string(ai) + "] should be an object");
        Example e;
        const std::string a = jf::find(answer, "idx") ? jf::id(answer, "idx", qwhere) : std::to_string(ai);
        e.id = p + "-" + q + "-" + a;
        e.group = p + "-" + q;
        e.texts = {text, question_text, jf::string(answer, "text", qwhere)};
        e.label = json_label(answer, qwhere, names, true);
        out.push_back(std::move(e));
      }
    }
  }};
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

Reader record_reader() {
  return {[](const json& obj, const Where& where, std::size_t row, std::vector<Example>& out) {
    const json& passage_field = jf::get(obj, "passage", where);
    if (passage_field.is_string()) {  // HF: one query per record, entities and answers as strings
      const json& idx = jf::object(obj, "idx", where);
      Example e;
      const std::string p = jf::id(idx, "passage", where);
      e.id = p + "-" + jf::id(idx, "query", where);
      e.group = p;
      e.texts = {passage_field.get<std::string>(), jf::string(obj, "query", where)};
      for (const auto& ent : jf::array(obj, "entities", where)) {
        if (!ent.is_string()) fail(where, "key \"entities\" should list strings");
        add_unique(e.choices, ent.get<std::string>());
      }
      if (const json* answers = jf::find(obj, "answers"))
        for (const auto& a : *answers) {
          if (!a.is_string()) fail(where, "key \"answers\" should list strings");
          add_unique(e.answers, a.get<std::string>());
        }
      out.push_back(std::move(e));
      return;
    }
    if (!passage_field.is_object()) fail(where, "key \"passage\" should be an object or a string, found " + jf::type_name(passage_field));
    const std::string p = record_id(obj, where, row);
    const std::string text = jf::string(passage_field, "text", where);
    std::vector<std::string> entities;
    for (const auto& ent : jf::array(passage_field, "entities", where)) {
      // Entity offsets are inclusive character positions.
      const long long start = jf::integer(ent, "start", where), end = jf::integer(ent, "end", where);
      add_unique(entities, family::slice_code_points(text, start, end + 1, where, "entity"));
    }
    const json& qas = jf::array(obj, "qas", where);
    for (std::size_t qi = 0; qi < qas.size(); ++qi) {
      const json& qa = qas[qi];
      Example e;
      e.id = p + "-" + (jf::find(qa, "idx") ? jf::id(qa, "idx", where) : std::to_string(qi));
      e.group = p;
      e.texts = {text, jf::string(qa, "query", where)};
      e.choices = entities;
      if (const json* answers = jf::find(qa, "answers"))
        for (const auto& a : *answers) add_unique(e.answers, jf::string(a, "text", where));
      out.push_back(std::move(e));
    }
  }};
}

Reader wic_reader() {
  return {[](const json& obj, const Where& where, std::size_t row, std::vector<Example>& out) {
    Example e;
    e.id = record_id(obj, where, row);
    e.texts = {jf::string(obj, "sentence1", where), jf::string(obj, "sentence2", where), jf::string(obj, "word", where)};
    for (std::size_t k = 0; k < 2; ++k) {
      const std::string n = std::to_string(k + 1);
      const long long b = jf::integer(obj, "start" + n, where), en = jf::integer(obj, "end" + n, where);
      e.spans.push_back({family::slice_code_points(e.texts[k], b, en, where, "sentence" + n + " word"), k, b, en});
    }
    e.label = json_label(obj, where, {"false", "true"}, true);
    out.push_back(std::move(e));
  }};
}

Reader wsc_reader() {
  return {[](const json& obj, const Where& where, std::size_t row, std::vector<Example>& out) {
    Example e;
    e.id = record_id(obj, where, row);
    e.texts = {jf::string(obj, "text", where)};
    const json& target = jf::find(obj, "target") ? jf::object(obj, "target", where) : obj;  // HF: flat
    for (const char* n : {"1", "2"}) {
      const long long index = jf::integer(target, std::string("span") + n + "_index", where);
      if (index < 0) fail(where, std::string("span") + n + "_index should not be negative");
      e.spans.push_back({jf::string(target, std::string("span") + n + "_text", where), 0, index, -1});
    }
    e.label = json_label(obj, where, {"false", "true"}, true);
    out.push_back(std::move(e));
  }};
}

struct SuperGlueSpec {
  std::string name, description;
  Format format = Format::classification;
  std::vector<std::string> text_fields, labels, label_words, metrics;
  Reader reader;
  std::function<std::string(const Example&)> prompt;
  bool diagnostic = false;
  std::vector<std::string> diagnostic_files;
};

void add(TaskRegistry& registry, SuperGlueSpec spec) {
  Task task;
  TaskInfo& info = task.info;
  info.id = "superglue/" + spec.name;
  info.family = "superglue";
  info.description = spec.description;
  info.format = spec.format;
  info.text_fields = spec.text_fields;
  info.labels = spec.labels;
  info.label_words = spec.label_words;
  info.metrics = spec.metrics;
  if (spec.diagnostic) {
    info.files = {{OfficialSplit::test, spec.diagnostic_files}};
  } else {
    info.files = {{OfficialSplit::train, {"train.jsonl", "train32.jsonl"}},
                  {OfficialSplit::dev, {"val.jsonl", "validation.jsonl", "dev32.jsonl"}},
                  {OfficialSplit::test, {"test.jsonl"}}};
  }
  task.read = [reader = spec.reader](const std::filesystem::path& p) { return read_file(p, reader); };
  task.count_records = family::count_jsonl;
  task.to_text = [prompt = spec.prompt, words = spec.label_words](const Example& e) {
    TextToText t{prompt(e), ""};
    if (e.label >= 0 && e.label < static_cast<int>(words.size())) t.target = words[e.label];
    else if (!e.answers.empty()) t.target = e.answers.front();
    return t;
  };
  if (spec.name == "multirc") {
    task.score = [info](const std::vector<Example>& examples, const std::vector<Prediction>& predictions) {
      family::require_labelled(examples);
      std::vector<std::string> questions;
      std::vector<int> truth, predicted;
      for (std::size_t i = 0; i < examples.size(); ++i) {
        questions.push_back(examples[i].group);
        truth.push_back(examples[i].label);
        predicted.push_back(resolve_label(info, examples[i], predictions.at(i)));
      }
      const auto s = metrics::multirc(questions, truth, predicted);
      return Scores{{"combined", 50 * (s.f1a + s.exact_match)}, {"f1a", 100 * s.f1a}, {"exact_match", 100 * s.exact_match}};
    };
  } else if (spec.name == "record") {
    task.score = [](const std::vector<Example>& examples, const std::vector<Prediction>& predictions) {
      family::require_labelled(examples);
      double em = 0, f1 = 0;
      for (std::size_t i = 0; i < examples.size(); ++i) {
        const Example& e = examples[i];
        const Prediction& p = predictions.at(i);
        // A candidate index picks that entity; anything else is read as the answer text.
        const std::string answer = p.label && *p.label >= 0 && *p.label < static_cast<int>(e.choices.size())
                                       ? e.choices[static_cast<std::size_t>(*p.label)]
                                       : family::prediction_text(p);
        em += metrics::max_over_answers(metrics::answer_exact_match, answer, e.answers);
        f1 += metrics::max_over_answers(metrics::answer_f1, answer, e.answers);
      }
      const double n = examples.empty() ? 1.0 : static_cast<double>(examples.size());
      return Scores{{"combined", 50 * (em + f1) / n}, {"f1", 100 * f1 / n}, {"exact_match", 100 * em / n}};
    };
  } else {
    task.score = family::label_scorer(info);
  }
  registry.add(std::move(task));
}

}  // namespace

void register_superglue(TaskRegistry& registry) {
  const std::vector<std::string> bools = {"false", "true"}, bool_words = {"False", "True"};
  const std::vector<std::string> nli2 = {"entailment", "not_entailment"};
  const std::vector<std::string> cb3 = {"entailment", "contradiction", "neutral"};
  using E = const Example&;
  add(registry, {.name = "boolq", .description = "BoolQ: yes/no question about a passage",
                 .text_fields = {"question", "passage"}, .labels = bools, .label_words = bool_words,
                 .metrics = {"accuracy"}, .reader = simple_reader({"question", "passage"}, bools, true),
                 .prompt = [](E e) { return "boolq question: " + e.texts[0] + " passage: " + e.texts[1]; }});
  add(registry, {.name = "cb", .description = "CommitmentBank: three-way entailment",
                 .text_fields = {"premise", "hypothesis"}, .labels = cb3, .label_words = cb3,
                 .metrics = {"combined", "accuracy", "macro_f1"}, .reader = simple_reader({"premise", "hypothesis"}, cb3, false),
                 .prompt = [](E e) { return "cb hypothesis: " + e.texts[1] + " premise: " + e.texts[0]; }});
  add(registry, {.name = "copa", .description = "COPA: the more plausible cause or effect (multiple choice)",
                 .format = Format::multiple_choice, .text_fields = {"premise", "question"},
                 .labels = {"choice1", "choice2"}, .label_words = {"choice1", "choice2"}, .metrics = {"accuracy"},
                 .reader = copa_reader(), .prompt = [](E e) {
                   return "copa choice1: " + e.choices[0] + " choice2: " + e.choices[1] + " premise: " + e.texts[0] +
                          " question: " + e.texts[1];
                 }});
  add(registry, {.name = "multirc", .description = "MultiRC: is each answer option right (EM per question, F1a)",
                 .text_fields = {"paragraph", "question", "answer"}, .labels = bools, .label_words = bool_words,
                 .metrics = {"combined", "f1a", "exact_match"}, .reader = multirc_reader(), .prompt = [](E e) {
                   return "multirc question: " + e.texts[1] + " answer: " + e.texts[2] + " paragraph: " + e.texts[0];
                 }});
  add(registry, {.name = "record", .description = "ReCoRD: the entity that fills the query's placeholder",
                 .format = Format::candidate_ranking, .text_fields = {"passage", "query"},
                 .metrics = {"combined", "f1", "exact_match"}, .reader = record_reader(), .prompt = [](E e) {
                   std::string entities;
                   for (const auto& c : e.choices) entities += (entities.empty() ? "" : ", ") + c;
                   return "record query: " + e.texts[1] + " entities: " + entities + " passage: " + e.texts[0];
                 }});
  add(registry, {.name = "rte", .description = "RTE: textual entailment (SuperGLUE copy)",
                 .text_fields = {"premise", "hypothesis"}, .labels = nli2, .label_words = nli2,
                 .metrics = {"accuracy"}, .reader = simple_reader({"premise", "hypothesis"}, nli2, false),
                 .prompt = [](E e) { return "rte sentence1: " + e.texts[0] + " sentence2: " + e.texts[1]; }});
  add(registry, {.name = "wic", .description = "WiC: is the word used in the same sense (word spans)",
                 .format = Format::span_pair, .text_fields = {"sentence1", "sentence2", "word"}, .labels = bools,
                 .label_words = bool_words, .metrics = {"accuracy"}, .reader = wic_reader(), .prompt = [](E e) {
                   return "wic sentence1: " + e.texts[0] + " sentence2: " + e.texts[1] + " word: " + e.texts[2];
                 }});
  add(registry, {.name = "wsc", .description = "WSC: does the pronoun refer to the noun phrase (span pair)",
                 .format = Format::span_pair, .text_fields = {"text"}, .labels = bools, .label_words = bool_words,
                 .metrics = {"accuracy"}, .reader = wsc_reader(), .prompt = [](E e) {
                   return "wsc text: " + e.texts[0] + " span1: " + e.spans[0].text + " span2: " + e.spans[1].text;
                 }});
  add(registry, {.name = "axb", .description = "AX-b: broad-coverage diagnostic (evaluate an RTE model; MCC)",
                 .text_fields = {"sentence1", "sentence2"}, .labels = nli2, .label_words = nli2, .metrics = {"mcc"},
                 .reader = simple_reader({"sentence1", "sentence2"}, nli2, false),
                 .prompt = [](E e) { return "rte sentence1: " + e.texts[0] + " sentence2: " + e.texts[1]; },
                 .diagnostic = true, .diagnostic_files = {"AX-b.jsonl", "axb.jsonl", "test.jsonl"}});
  add(registry, {.name = "axg", .description = "AX-g: Winogender diagnostic (evaluate an RTE model)",
                 .text_fields = {"premise", "hypothesis"}, .labels = nli2, .label_words = nli2, .metrics = {"accuracy"},
                 .reader = simple_reader({"premise", "hypothesis"}, nli2, false),
                 .prompt = [](E e) { return "rte sentence1: " + e.texts[0] + " sentence2: " + e.texts[1]; },
                 .diagnostic = true, .diagnostic_files = {"AX-g.jsonl", "axg.jsonl", "test.jsonl"}});
}

}  // namespace petlab::tasks
