// A synthetic study folder (scripts/reference/report_study.py: two tasks, full / lora / bitfit, 2-5 seeds,
// a diverged, a failed and a pending run, fair and legacy, curves) plus two broken result files: the
// report's summary.csv, report.md and report.html must hold what numpy and scipy computed from it.
#include "report/format.hpp"
#include "report/report.hpp"
#include "report/report_files.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

using nlohmann::json;
namespace fs = std::filesystem;
using namespace petlab::testing;

namespace {

const fs::path kFixture = fs::path(PETLAB_FIXTURE_DIR) / "report_study";

json expected() {
  std::ifstream in(kFixture / "expected.json");
  REQUIRE_MESSAGE(in.good(), "missing fixture " << kFixture << " (run the fixture:report_study test first)");
  return json::parse(in);
}

/// The fixture's study plus a result.json that is not JSON and one without its "task".
void make_study(const fs::path& dir) {
  fs::copy(kFixture / "study", dir, fs::copy_options::recursive);
  write_text(dir / "broken-cell" / "seed-0" / "result.json", "{\"study\": \"synthetic\", \"cell\": ");
  json no_task = finished_result("nokey-cell", 0, "lora", 0.5);
  no_task.erase("task");
  write_text(dir / "nokey-cell" / "seed-0" / "result.json", no_task.dump(2));
}

std::string train_size_text(const json& v) { return v.is_null() ? "all" : std::to_string(v.get<long long>()); }

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> table_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') cell += '|', ++i;
    else if (line[i] == '|') cells.push_back(trim(cell)), cell.clear();
    else cell += line[i];
  }
  return cells;
}

/// report.md's result tables: "task|train_size|protocol|label" → the row's cells.
std::map<std::string, std::vector<std::string>> result_rows(const std::string& md) {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream in(md);
  std::string task, where;
  bool in_results = true;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("## ")) {
      in_results = line.find('(') != std::string::npos;  // task headings carry "(metric)"
      task = line.substr(3, line.find(" (") - 3);
    } else if (line.starts_with("### ")) {
      where = line.substr(4);
    } else if (line.starts_with("train_size ")) {
      where = line.substr(0, line.size() - 1);  // "train_size 1000, fair protocol."
    } else if (in_results && line.starts_with("| ") && !line.starts_with("| method ")) {
      const auto cells = table_cells(line);
      rows[task + "|" + where + "|" + cells.at(0)] = cells;
    }
  }
  return rows;
}

double parse_number(std::string text) {
  for (const char* mark : {"**", " *"})
    for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark)) text.erase(at, std::string(mark).size());
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  REQUIRE_MESSAGE(*end == '\0', "not a number: '" << text << "'");
  return v;
}

void check_relative(double ours, double reference, double tolerance, const std::string& what) {
  INFO(what << ": report " << ours << ", reference " << reference);
  CHECK(std::abs(ours - reference) <= tolerance * std::max(std::abs(reference), 1e-300));
}

}  // namespace

TEST_CASE("summary.csv holds one row per readable run, sorted, with the spec's settings and RFC 4180 quoting") {
  const json e = expected();
  ScratchDir dir("csv");
  make_study(dir.path());
  petlab::report::write_report(dir.path());
  const std::string text = read_text(dir.path() / "summary.csv");
  CHECK(text.find("\r\n") != std::string::npos);
  CHECK(text.find("\"bitfit \"\"all biases\"\"\"") != std::string::npos);
  CHECK(text.find("\"lora r=8, alpha=16\"") != std::string::npos);

  const auto records = parse_csv(text);
  REQUIRE(records.size() == e["rows"].size() + 1);
  CHECK(records[0] == e["columns"].get<std::vector<std::string>>());
  int numeric = 0;
  for (std::size_t i = 0; i < e["rows"].size(); ++i) {
    const json& want = e["rows"][i];
    const auto& got = records[i + 1];
    REQUIRE(got.size() == records[0].size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      const std::string& column = records[0][k];
      const json& w = want[column];
      INFO("row " << i + 1 << " (" << want["cell"].get<std::string>() << " seed " << want["seed"] << "), column " << column);
      if (w.is_number()) {
        CHECK(parse_number(got[k]) == w.get<double>());  // shortest round-trip text: exact
        ++numeric;
      } else {
        CHECK(got[k] == w.get<std::string>());
      }
    }
  }
  CHECK(numeric > 300);
}

TEST_CASE("report.md tables: mean and std over finished seeds, counts, trainable % and Welch p equal numpy and scipy") {
  const json e = expected();
  ScratchDir dir("md");
  make_study(dir.path());
  petlab::report::write_report(dir.path());
  const std::string md = read_text(dir.path() / "report.md");
  const auto rows = result_rows(md);
  std::size_t checked = 0, with_p = 0, significant = 0;
  for (const json& g : e["groups"]) {
    // A task with one group says "train_size N, P protocol." under its heading, else a ### heading per group.
    const std::string where =
        "train_size " + train_size_text(g["train_size"]) + ", " + g["protocol"].get<std::string>() + " protocol";
    for (const json& want : g["rows"]) {
      const std::string key = g["task"].get<std::string>() + "|" + where + "|" + want["label"].get<std::string>();
      INFO(key);
      auto it = rows.find(key);
      REQUIRE_MESSAGE(it != rows.end(), "no row for " << key << " in\n" << md);
      const auto& cells = it->second;
      REQUIRE(cells.size() == 7);
      const std::string score = cells[1];
      const auto pm = score.find(" \u00b1 ");
      REQUIRE(pm != std::string::npos);  // every row of the fixture has two or more finished seeds
      CHECK(std::abs(parse_number(score.substr(0, pm)) - want["mean"].get<double>()) <= 5.000001e-5);
      CHECK(std::abs(parse_number(score.substr(pm + 4)) - want["std"].get<double>()) <= 5.000001e-5);
      CHECK(cells[2] == std::to_string(want["n"].get<int>()));
      CHECK(cells[3] == std::to_string(want["diverged"].get<int>()));
      CHECK(cells[4] == std::to_string(want["failed"].get<int>()));
      check_relative(parse_number(cells[5]), want["percent_trainable"], 5e-3, "trainable %");
      if (want["baseline"].get<bool>()) {
        CHECK(cells[6] == "baseline");
      } else if (want["p"].is_null()) {
        CHECK(cells[6] == "\u2014");
      } else {
        const double p = want["p"];
        check_relative(parse_number(cells[6]), p, 5e-3, "p");
        CHECK((cells[6].find('*') != std::string::npos) == (p < 0.05));
        ++with_p;
        significant += p < 0.05;
      }
      ++checked;
    }
  }
  CHECK(checked == 11);
  CHECK(with_p == 6);
  CHECK(significant >= 1);  // the fixture's bitfit trails full tuning clearly
  CHECK(rows.size() == checked);  // no extra rows

  // legacy − fair, from the same means
  for (const json& i : e["inflation"]) {
    std::ostringstream row;
    row << "| " << i["task"].get<std::string>() << " | " << train_size_text(i["train_size"]) << " | "
        << i["label"].get<std::string>() << " | ";
    const auto at = md.find(row.str());
    REQUIRE_MESSAGE(at != std::string::npos, "no inflation row " << row.str());
    const auto cells = table_cells(md.substr(at, md.find('\n', at) - at));
    CHECK(std::abs(parse_number(cells.at(5)) - i["inflation"].get<double>()) <= 5.000001e-5);
  }
}

TEST_CASE("bad and unfinished runs are listed: skipped files with path and key, pending folders, torn curves") {
  const json e = expected();
  ScratchDir dir("lists");
  make_study(dir.path());
  const auto outcome = petlab::report::write_report(dir.path());
  const auto& study = outcome.study;
  CHECK(study.runs.size() == e["runs"].get<std::size_t>());

  REQUIRE(study.skipped.size() == 2);
  CHECK(study.skipped[0].file == dir.path() / "broken-cell" / "seed-0" / "result.json");
  CHECK(study.skipped[0].message.find("not valid JSON") != std::string::npos);
  CHECK(study.skipped[1].file == dir.path() / "nokey-cell" / "seed-0" / "result.json");
  CHECK(study.skipped[1].message == "missing key 'task'");

  std::vector<std::string> pending;
  for (const auto& p : study.pending) pending.push_back(p.file.lexically_relative(dir.path()).string());
  CHECK(pending == e["pending"].get<std::vector<std::string>>());
  REQUIRE(study.warnings.size() == 1);
  CHECK(study.warnings[0].file.lexically_relative(dir.path()).string() == e["warnings"][0].get<std::string>());
  CHECK(study.warnings[0].message.find("1 unreadable line") != std::string::npos);

  const std::string md = read_text(dir.path() / "report.md");
  const std::string html = read_text(dir.path() / "report.html");
  const std::vector<std::string> listed = {"broken-cell/seed-0/result.json", "nokey-cell/seed-0/result.json",
                                           "missing key 'task'", "cola-prefix-all-fair", "sst2-bitfit-1000-fair/seed-3",
                                           "killed by signal 9"};
  for (const std::string& shown : listed) {
    CHECK_MESSAGE(md.find(shown) != std::string::npos, shown << " not in report.md");
    CHECK_MESSAGE(html.find(petlab::report::xml_escape(shown)) != std::string::npos, shown << " not in report.html");
  }
}

TEST_CASE("report.html is one well-formed page of SVG figures with finite coordinates, no script, nothing fetched") {
  ScratchDir dir("html");
  make_study(dir.path());
  petlab::report::write_report(dir.path());
  const std::string html = read_text(dir.path() / "report.html");
  CHECK(markup_problem(html) == "");
  const auto svgs = svg_elements(html);
  // 4 groups with finished runs (stability, convergence, parameters), 3 with a full baseline (cost),
  // 1 task × train_size under both protocols (fair vs legacy).
  CHECK(svgs.size() == 4 + 4 + 4 + 3 + 1);
  for (const auto& svg : svgs) {
    CHECK(markup_problem(svg) == "");
    CHECK(bad_coordinates(svg).empty());
    CHECK(off_canvas(svg).empty());
    CHECK(svg.find("NaN") == std::string::npos);
  }
  auto figures_in = [&](const std::string& id) {
    const auto begin = html.find("<section id=\"" + id + "\">");
    const auto end = html.find("</section>", begin);
    REQUIRE(begin != std::string::npos);
    return svg_elements(html.substr(begin, end - begin)).size();
  };
  CHECK(figures_in("stability") == 4);
  CHECK(figures_in("convergence") == 4);
  CHECK(figures_in("parameters") == 4);
  CHECK(figures_in("cost") == 3);
  CHECK(figures_in("protocol") == 1);
  CHECK(html.find("<script") == std::string::npos);
  std::string without_namespace = html;
  for (auto at = without_namespace.find("http://www.w3.org/2000/svg"); at != std::string::npos;
       at = without_namespace.find("http://www.w3.org/2000/svg"))
    without_namespace.erase(at, 26);
  CHECK(without_namespace.find("http") == std::string::npos);
  CHECK(html.find("bitfit &quot;all biases&quot;") != std::string::npos);  // escaped, in text and attributes
}

TEST_CASE("a rerun overwrites the three files with the same bytes and leaves no temporary file") {
  ScratchDir dir("rerun");
  make_study(dir.path());
  petlab::report::write_report(dir.path());
  std::map<std::string, std::string> first;
  for (const char* name : {"summary.csv", "report.md", "report.html"}) first[name] = read_text(dir.path() / name);
  petlab::report::write_report(dir.path());
  for (const auto& [name, text] : first) CHECK(read_text(dir.path() / name) == text);
  for (const auto& entry : fs::directory_iterator(dir.path()))
    CHECK_MESSAGE(!entry.path().filename().string().starts_with("."), "left behind: " << entry.path());
}
