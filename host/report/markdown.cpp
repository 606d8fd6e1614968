#include "report/markdown.hpp"

#include "report/cells.hpp"
#include "report/format.hpp"

#include <map>
#include <set>
#include <sstream>

namespace petlab::report {

namespace {

/// Table cells may not hold a bare '|' or a line break.
std::string md_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

/// The runner appends the worker's log tail to an error: the list shows the first line only.
std::string first_line(const std::string& text) {
  const auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end) + " (more in result.json)";
}

void write_table(std::ostringstream& md, const Group& g) {
  md << "| method | test " << md_cell(g.metric) << " (mean \u00b1 std) | n | diverged | failed | trainable % | p vs "
     << kBaselineMethod << " |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const MethodRow& row : g.rows) {
    std::string p = p_cell(g, row);
    if (significant(row)) p = "**" + p + "** *";
    md << "| " << md_cell(row.label) << " | " << score_cell(row.score) << " | " << row.score.n << " | "
       << row.diverged << " | " << row.failed << " | " << percent_cell(row) << " | " << p << " |\n";
  }
}

void write_groups(std::ostringstream& md, const std::vector<Group>& groups) {
  std::map<std::string, std::vector<const Group*>> by_task;
  for (const Group& g : groups) by_task[g.task].push_back(&g);
  for (const auto& [task, task_groups] : by_task) {
    md << "\n## " << task << " (" << task_groups.front()->metric << ")\n";
    for (const Group* g : task_groups) {
      const std::string where = "train_size " + train_size_text(g->train_size) + ", " + g->protocol + " protocol";
      if (task_groups.size() > 1) md << "\n### " << where << "\n\n";
      else md << "\n" << where << ".\n\n";
      write_table(md, *g);
    }
  }
}

void write_inflation(std::ostringstream& md, const std::vector<Group>& groups) {
  const auto inflation = protocol_inflation(groups);
  if (inflation.empty()) return;
  md << "\n## Fair vs legacy protocol\n\nThe legacy protocol reports the dev score of the best step (model "
        "selection on the evaluation set); the difference legacy \u2212 fair is the inflation.\n\n"
        "| task | train_size | method | fair | legacy | inflation |\n|---|---:|---|---:|---:|---:|\n";
  for (const Inflation& i : inflation) {
    md << "| " << md_cell(i.task) << " | " << train_size_text(i.train_size) << " | " << md_cell(i.label) << " | "
       << score_cell(i.fair) << " | " << score_cell(i.legacy) << " | " << (i.inflation() >= 0 ? "+" : "")
       << fixed(i.inflation(), 4) << " |\n";
  }
}

void write_lists(std::ostringstream& md, const StudyRuns& study) {
  std::vector<const Run*> unfinished;
  for (const Run& r : study.runs)
    if (r.status != RunStatus::finished) unfinished.push_back(&r);
  if (!unfinished.empty()) {
    md << "\n## Diverged and failed runs\n\n";
    for (const Run* r : unfinished) {
      md << "- `" << shown_path(study, r->dir) << "` " << to_string(r->status);
      if (!r->error.empty()) md << ": " << md_cell(first_line(r->error));
      md << "\n";
    }
  }
  if (!study.pending.empty()) {
    md << "\n## Pending\n\n";
    for (const Problem& p : study.pending) md << "- `" << shown_path(study, p.file) << "`: " << p.message << "\n";
  }
  if (!study.skipped.empty()) {
    md << "\n## Skipped files\n\n";
    for (const Problem& p : study.skipped) md << "- `" << shown_path(study, p.file) << "`: " << md_cell(p.message) << "\n";
  }
  if (!study.warnings.empty()) {
    md << "\n## Warnings\n\n";
    for (const Problem& p : study.warnings) md << "- `" << shown_path(study, p.file) << "`: " << md_cell(p.message) << "\n";
  }
}

}  // namespace

std::string shown_path(const StudyRuns& study, const std::filesystem::path& path) {
  const auto relative = path.lexically_relative(study.dir);
  if (relative.empty() || relative.native().starts_with("..")) return path.string();
  return relative.string();
}

std::string run_counts(const StudyRuns& study) {
  std::map<RunStatus, int> by_status;
  for (const Run& r : study.runs) ++by_status[r.status];
  std::string out = std::to_string(study.runs.size()) + " runs";
  std::string sep = " (";
  for (RunStatus s : {RunStatus::finished, RunStatus::diverged, RunStatus::failed}) {
    if (by_status[s] == 0) continue;
    out += sep + std::to_string(by_status[s]) + " " + to_string(s);
    sep = ", ";
  }
  out += ")";
  if (!study.pending.empty()) out += ", " + std::to_string(study.pending.size()) + " pending";
  if (!study.skipped.empty()) out += ", " + std::to_string(study.skipped.size()) + " result file(s) skipped";
  return out;
}

std::string study_names(const StudyRuns& study) {
  std::set<std::string> names;
  for (const Run& r : study.runs) names.insert(r.study);
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string report_markdown(const StudyRuns& study, const std::vector<Group>& groups) {
  std::ostringstream md;
  md << "# Study report: " << study_names(study) << "\n\n"
     << run_counts(study) << " in `" << study.dir.string() << "`.\n\n"
     << "Scores are the test metric of the finished seeds: mean \u00b1 sample std (ddof = 1) over n seeds. "
        "p: two-sided Welch's t-test against full tuning (method `"
     << kBaselineMethod
     << "`) with the same task, train size and protocol; **bold** and * when p < 0.05; \u2014 without a "
        "baseline or with fewer than two finished seeds a side. Under the legacy protocol the reported test "
        "score is the dev score of the best step.\n";
  write_groups(md, groups);
  write_inflation(md, groups);
  write_lists(md, study);
  return md.str();
}

}  // namespace petlab::report
