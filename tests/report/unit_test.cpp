// The report's edges: empty and broken study folders, schema errors naming the key, CSV quoting, the
// plots' scales, sections without data, and the command's exit codes and messages.
#include "core/error.hpp"
#include "report/report.hpp"
#include "report/report_files.hpp"
#include "report/summary_csv.hpp"
#include "report/svg.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>

using nlohmann::json;
namespace fs = std::filesystem;
namespace report = petlab::report;
using namespace petlab::testing;

namespace {

void write_run(const fs::path& dir, const json& result) {
  write_text(dir / result["cell"].get<std::string>() / ("seed-" + std::to_string(result["seed"].get<int>())) / "result.json",
             result.dump(2));
}

/// The message report_runs gives for one result.json with `edit` applied.
std::string problem_with(const std::function<void(json&)>& edit) {
  ScratchDir dir("schema");
  write_run(dir.path(), finished_result("good", 0, "full", 0.9));
  json bad = finished_result("bad", 0, "lora", 0.8);
  edit(bad);
  write_text(dir.path() / "bad" / "seed-0" / "result.json", bad.dump(2));
  const auto outcome = report::write_report(dir.path());
  REQUIRE(outcome.study.runs.size() == 1);
  REQUIRE(outcome.study.skipped.size() == 1);
  CHECK(outcome.study.skipped[0].file == dir.path() / "bad" / "seed-0" / "result.json");
  return outcome.study.skipped[0].message;
}

}  // namespace

TEST_CASE("an empty or missing folder is a clear error") {
  ScratchDir dir("empty");
  const std::string no_runs = "no runs under " + dir.path().string();
  CHECK_THROWS_WITH_AS(report::write_report(dir.path()), doctest::Contains(no_runs.c_str()), petlab::Error);
  CHECK_THROWS_WITH_AS(report::write_report(dir.path() / "nowhere"), doctest::Contains("does not exist"), petlab::Error);
  CHECK(!fs::exists(dir.path() / "report.html"));

  write_text(dir.path() / "cell" / "seed-0" / "result.json", "not json");
  write_text(dir.path() / "cell" / "seed-1" / "spec.json", "{}");
  CHECK_THROWS_WITH_AS(report::write_report(dir.path()), doctest::Contains("cell/seed-0/result.json: not valid JSON"),
                       petlab::Error);
  CHECK_THROWS_WITH_AS(report::write_report(dir.path()), doctest::Contains("1 run(s) pending"), petlab::Error);
}

TEST_CASE("a result.json off the schema is skipped with the key and what was expected") {
  CHECK(problem_with([](json& j) { j.erase("method_label"); }) == "missing key 'method_label'");
  CHECK(problem_with([](json& j) { j["seed"] = "0"; }) == "key 'seed': expected an integer, got string");
  CHECK(problem_with([](json& j) { j["status"] = "done"; }) ==
        "key 'status': expected finished, diverged or failed, got 'done'");
  CHECK(problem_with([](json& j) { j["test"] = json::object(); }) ==
        "key 'test.accuracy': a finished run needs its test score in the study's metric");
  CHECK(problem_with([](json& j) { j.erase("test"); }) == "missing key 'test'");
  CHECK(problem_with([](json& j) { j["test"]["accuracy"] = "high"; }) ==
        "key 'test.accuracy': expected a number, got string");
  CHECK(problem_with([](json& j) { j["peak_rss_mb"] = "1GB"; }) ==
        "key 'peak_rss_mb': expected a number or null, got string");
  CHECK(problem_with([](json& j) { j["train_size"] = 1.5; }) == "key 'train_size': expected an integer or null, got number");
  CHECK(problem_with([](json& j) { j = json::array(); }) == "expected a JSON object, got array");
}

TEST_CASE("a failed run written by the runner (no metric, no scores) is counted, not skipped") {
  ScratchDir dir("failed");
  write_run(dir.path(), finished_result("full-cell", 0, "full", 0.9));
  write_run(dir.path(), finished_result("full-cell", 1, "full", 0.92));
  const json failed = {{"study", "unit"}, {"cell", "lora-cell"}, {"seed", 0}, {"task", "glue/sst2"},
                       {"method", "lora"}, {"method_label", "lora"}, {"train_size", 100}, {"protocol", "fair"},
                       {"status", "failed"}, {"error", "the worker exited with code 3\nlast log line"}};
  write_run(dir.path(), failed);
  const auto outcome = report::write_report(dir.path());
  CHECK(outcome.study.skipped.empty());
  REQUIRE(outcome.study.runs.size() == 3);
  const std::string md = read_text(dir.path() / "report.md");
  CHECK(md.find("| lora | \u2014 | 0 | 0 | 1 | \u2014 | \u2014 |") != std::string::npos);
  CHECK(md.find("| full | 0.9100 \u00b1 0.0141 | 2 | 0 | 0 | 1.5 | baseline |") != std::string::npos);
  CHECK(md.find("the worker exited with code 3 (more in result.json)") != std::string::npos);
  const std::string folded = "<details><summary>the worker exited with code 3</summary><pre>last log line</pre>";
  CHECK(read_text(dir.path() / "report.html").find(folded) != std::string::npos);
}

TEST_CASE("a finished run whose metric came out null (NaN) stays in the summary, unscored, with a warning") {
  ScratchDir dir("nan");
  write_run(dir.path(), finished_result("lora-cell", 0, "lora", 0.9));
  json nan_run = finished_result("lora-cell", 1, "lora", 0.0);
  nan_run["test"]["accuracy"] = nullptr;
  write_run(dir.path(), nan_run);
  const auto outcome = report::write_report(dir.path());
  CHECK(outcome.study.runs.size() == 2);
  REQUIRE(outcome.study.warnings.size() == 1);
  CHECK(outcome.study.warnings[0].message == "test.accuracy is null (not a number?): a finished run without a score");
  CHECK(read_text(dir.path() / "report.md").find("| lora | 0.9000 | 1 | 0 | 0 | 1.5 | \u2014 |") != std::string::npos);
  CHECK(parse_csv(read_text(dir.path() / "summary.csv")).size() == 3);
}

TEST_CASE("sections without data say so instead of drawing empty plots") {
  ScratchDir dir("sparse");
  write_run(dir.path(), finished_result("lora-cell", 0, "lora", 0.9));  // one method, one seed, no curve
  report::write_report(dir.path());
  const std::string html = read_text(dir.path() / "report.html");
  CHECK(markup_problem(html) == "");
  CHECK(html.find("No curve.jsonl holds a dev evaluation.") != std::string::npos);
  CHECK(html.find("No group has a full-tuning baseline") != std::string::npos);
  CHECK(html.find("No task and method was run under both the fair and the legacy protocol.") != std::string::npos);
  CHECK(svg_elements(html).size() == 2);  // stability and score vs parameters
  for (const auto& svg : svg_elements(html)) CHECK(bad_coordinates(svg).empty());
  const std::string md = read_text(dir.path() / "report.md");
  CHECK(md.find("| lora | 0.9000 | 1 | 0 | 0 | 1.5 | \u2014 |") != std::string::npos);
}

TEST_CASE("many methods with long labels: legends grow the plot, nothing is drawn off the canvas") {
  ScratchDir dir("many");
  for (int m = 0; m < 14; ++m) {
    const std::string method = m == 0 ? "full" : "method-" + std::to_string(m);
    for (int seed = 0; seed < 3; ++seed) {
      json r = finished_result("cell-" + std::to_string(m), seed, method, 0.5 + 0.01 * m + 0.003 * seed);
      r["method_label"] = m == 13 ? "prefix tuning with a very long label that needs shortening" : method;
      r["trainable_params"] = 1000 * (m + 1);
      write_run(dir.path(), r);
      write_text(dir.path() / ("cell-" + std::to_string(m)) / ("seed-" + std::to_string(seed)) / "curve.jsonl",
                 "{\"step\": 10, \"dev\": {\"accuracy\": 0.4}}\n{\"step\": 20, \"dev\": {\"accuracy\": 0.5}}\n");
    }
  }
  report::write_report(dir.path());
  const auto svgs = svg_elements(read_text(dir.path() / "report.html"));
  CHECK(svgs.size() == 4);  // stability, convergence, parameters, cost
  for (const auto& svg : svgs) {
    CHECK(bad_coordinates(svg).empty());
    const auto off = off_canvas(svg);
    CHECK_MESSAGE(off.empty(), (off.empty() ? std::string() : off.front()));
  }
  CHECK(svgs[0].find("prefix tuning with a very\u2026") != std::string::npos);  // shortened, whole in a tooltip
  CHECK(svgs[0].find("<title>prefix tuning with a very long label that needs shortening</title>") != std::string::npos);
}

TEST_CASE("CSV fields are quoted as RFC 4180 asks") {
  CHECK(report::csv_field("plain") == "plain");
  CHECK(report::csv_field("a,b") == "\"a,b\"");
  CHECK(report::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(report::csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(report::csv_field("") == "");
  CHECK(parse_csv("a,\"b,c\",\"d\"\"e\"\r\n1,2,3\r\n") ==
        std::vector<std::vector<std::string>>{{"a", "b,c", "d\"e"}, {"1", "2", "3"}});
}

TEST_CASE("plot scales: round ticks inside the domain, log decades, no non-finite coordinate") {
  const auto s = report::svg::linear(0.853, 0.917, 0, 100);
  CHECK(s.lo <= 0.853);
  CHECK(s.hi >= 0.917);
  const auto ticks = s.ticks();
  REQUIRE(ticks.size() >= 3);
  CHECK(ticks.size() <= 9);
  CHECK(s.tick_text(ticks[1]).size() <= 5);
  CHECK(s(s.lo) == doctest::Approx(0));
  CHECK(s(s.hi) == doctest::Approx(100));
  const auto flat = report::svg::linear(0.9, 0.9, 0, 100);  // one value: widened, not divided by zero
  CHECK(flat.lo < 0.9);
  CHECK(flat.hi > 0.9);
  const auto log = report::svg::logarithmic(29184, 22713216, 0, 300);
  CHECK(log.lo == 1e4);  // whole decades around the data
  CHECK(log.hi == 1e8);
  CHECK(log.ticks() == std::vector<double>{1e4, 1e5, 1e6, 1e7, 1e8});
  CHECK(log.tick_text(1e6) == "1M");
  CHECK_THROWS_AS(report::svg::coord(NAN), std::logic_error);
  CHECK_THROWS_AS(report::svg::coord(INFINITY), std::logic_error);
}

TEST_CASE("the command: files written and skipped files named on stderr, exit 1 with the error otherwise") {
  ScratchDir dir("cli");
  const auto empty = run_report_cli("study report " + dir.path().string());
  CHECK(empty.exit_code == 1);
  CHECK(empty.err.find("petlab: error: no runs under " + dir.path().string()) != std::string::npos);

  write_run(dir.path(), finished_result("full-cell", 0, "full", 0.9));
  write_text(dir.path() / "bad" / "seed-0" / "result.json", "{");
  const auto ok = run_report_cli("study report " + dir.path().string());
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find((dir.path() / "report.html").string()) != std::string::npos);
  CHECK(ok.err.find("skipped " + (dir.path() / "bad" / "seed-0" / "result.json").string() + ": not valid JSON") !=
        std::string::npos);
  CHECK(fs::exists(dir.path() / "summary.csv"));

  const auto missing = run_report_cli("study report");
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("DIR is required") != std::string::npos);
}
