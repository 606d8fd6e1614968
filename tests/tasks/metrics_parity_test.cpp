// Metric parity: our metrics against the values rouge-score, sacrebleu, scikit-learn and scipy computed
// on the same corpora (scripts/reference/metric_cases.py writes them as the `metric_cases` fixture).
#include "petlab/tasks/bleu.hpp"
#include "petlab/tasks/metrics.hpp"
#include "petlab/tasks/rouge.hpp"
#include "petlab/tasks/text.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using nlohmann::json;
namespace m = petlab::tasks::metrics;
namespace rouge = petlab::tasks::rouge;
namespace bleu = petlab::tasks::bleu;

namespace {

constexpr double kTolerance = 1e-6;

json fixture(const std::string& name) {
  const auto path = std::filesystem::path(PETLAB_FIXTURE_DIR) / "metric_cases" / name;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << path << " (run the fixture:metric_cases test first)");
  return json::parse(in)["data"];
}

std::vector<int> ints(const json& j) { return j.get<std::vector<int>>(); }
std::vector<double> doubles(const json& j) { return j.get<std::vector<double>>(); }

void check_score(const rouge::Score& ours, const json& ref, const std::string& what) {
  INFO(what);
  CHECK(std::abs(ours.precision - ref["precision"].get<double>()) < kTolerance);
  CHECK(std::abs(ours.recall - ref["recall"].get<double>()) < kTolerance);
  CHECK(std::abs(ours.fmeasure - ref["fmeasure"].get<double>()) < kTolerance);
}

}  // namespace

TEST_CASE("accuracy, F1, macro-F1 and MCC equal scikit-learn's") {
  const json cases = fixture("classification.json");
  REQUIRE(cases.size() >= 5);
  for (const auto& c : cases) {
    INFO(c["name"].get<std::string>());
    const auto t = ints(c["y_true"]), p = ints(c["y_pred"]);
    CHECK(std::abs(m::accuracy(t, p) - c["accuracy"].get<double>()) < kTolerance);
    CHECK(std::abs(m::macro_f1(t, p) - c["macro_f1"].get<double>()) < kTolerance);
    CHECK(std::abs(m::matthews_corrcoef(t, p) - c["mcc"].get<double>()) < kTolerance);
    if (c.contains("f1")) CHECK(std::abs(m::binary_f1(t, p) - c["f1"].get<double>()) < kTolerance);
  }
}

TEST_CASE("Pearson and Spearman (with ties) equal scipy.stats") {
  for (const auto& c : fixture("correlation.json")) {
    INFO(c["name"].get<std::string>());
    const auto x = doubles(c["x"]), y = doubles(c["y"]);
    CHECK(std::abs(m::pearson(x, y) - c["pearson"].get<double>()) < kTolerance);
    CHECK(std::abs(m::spearman(x, y) - c["spearman"].get<double>()) < kTolerance);
  }
}

TEST_CASE("MultiRC exact match per question and F1a equal the reference") {
  for (const auto& c : fixture("multirc.json")) {
    INFO(c["name"].get<std::string>());
    const auto s = m::multirc(c["groups"].get<std::vector<std::string>>(), ints(c["y_true"]), ints(c["y_pred"]));
    CHECK(std::abs(s.exact_match - c["em"].get<double>()) < kTolerance);
    CHECK(std::abs(s.f1a - c["f1a"].get<double>()) < kTolerance);
  }
}

TEST_CASE("ReCoRD EM and F1 (max over answers) equal the official evaluation") {
  const json data = fixture("record.json");
  double em = 0, f1 = 0;
  for (const auto& c : data["cases"]) {
    const auto answers = c["answers"].get<std::vector<std::string>>();
    const auto pred = c["prediction"].get<std::string>();
    INFO(pred);
    const double e = m::max_over_answers(m::answer_exact_match, pred, answers);
    const double f = m::max_over_answers(m::answer_f1, pred, answers);
    CHECK(std::abs(e - c["em"].get<double>()) < kTolerance);
    CHECK(std::abs(f - c["f1"].get<double>()) < kTolerance);
    em += e;
    f1 += f;
  }
  const double n = static_cast<double>(data["cases"].size());
  CHECK(std::abs(em / n - data["em"].get<double>()) < kTolerance);
  CHECK(std::abs(f1 / n - data["f1"].get<double>()) < kTolerance);
}

TEST_CASE("Porter stems equal NLTK's PorterStemmer on every fixture word") {
  const json stems = fixture("rouge.json")["stems"];
  REQUIRE(stems.size() > 1000);
  std::size_t mismatches = 0;
  for (const auto& [word, stem] : stems.items()) {
    if (rouge::porter_stem(word) != stem.get<std::string>()) {
      if (++mismatches <= 20) MESSAGE(word << ": ours " << rouge::porter_stem(word) << ", nltk " << stem.get<std::string>());
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("rouge-score tokens and ROUGE-1/2/L/Lsum equal rouge-score on 400 pairs, with and without stemming") {
  const json data = fixture("rouge.json");
  REQUIRE(data["pairs"].size() >= 600);
  for (const auto& c : data["pairs"]) {
    const auto target = c["target"].get<std::string>(), prediction = c["prediction"].get<std::string>();
    const bool stem = c["stemmer"].get<bool>();
    INFO("target: " << target << "\nprediction: " << prediction << "\nstemmer: " << stem);
    CHECK(rouge::tokenize(target, stem) == c["target_tokens"].get<std::vector<std::string>>());
    const auto s = rouge::score(target, prediction, stem);
    check_score(s.rouge1, c["rouge1"], "rouge1");
    check_score(s.rouge2, c["rouge2"], "rouge2");
    check_score(s.rougeL, c["rougeL"], "rougeL");
    check_score(s.rougeLsum, c["rougeLsum"], "rougeLsum");
  }
  for (const auto& c : data["multi"]) {
    const auto s = rouge::score_multi(c["targets"].get<std::vector<std::string>>(), c["prediction"].get<std::string>(), true);
    check_score(s.rouge1, c["rouge1"], "multi rouge1");
    check_score(s.rouge2, c["rouge2"], "multi rouge2");
    check_score(s.rougeL, c["rougeL"], "multi rougeL");
    check_score(s.rougeLsum, c["rougeLsum"], "multi rougeLsum");
  }
}

TEST_CASE("13a tokenisation equals sacrebleu's Tokenizer13a") {
  const json data = fixture("bleu.json");
  REQUIRE(data["tokenized"].size() >= 400);
  for (const auto& c : data["tokenized"]) {
    const auto in = c["in"].get<std::string>();
    INFO(in);
    CHECK(bleu::tokenize_13a(petlab::tasks::text::rstrip(in)) == c["out"].get<std::string>());
  }
}

TEST_CASE("corpus BLEU equals sacrebleu with one, three and a variable number of references") {
  for (const auto& c : fixture("bleu.json")["corpora"]) {
    INFO(c["name"].get<std::string>());
    const auto hyps = c["hyps"].get<std::vector<std::string>>();
    std::vector<std::vector<std::string>> refs(hyps.size());
    for (const auto& stream : c["refs"])
      for (std::size_t i = 0; i < hyps.size(); ++i)
        if (!stream[i].is_null()) refs[i].push_back(stream[i].get<std::string>());  // None: fewer refs here
    const auto r = bleu::corpus_bleu(hyps, refs);
    CHECK(std::abs(r.score - c["score"].get<double>()) < kTolerance);
    CHECK(r.counts == c["counts"].get<std::vector<long long>>());
    CHECK(r.totals == c["totals"].get<std::vector<long long>>());
    CHECK(r.sys_len == c["sys_len"].get<long long>());
    CHECK(r.ref_len == c["ref_len"].get<long long>());
  }
}
