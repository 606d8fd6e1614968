#include "report/html.hpp"

#include "report/cells.hpp"
#include "report/format.hpp"
#include "report/markdown.hpp"
#include "report/plots.hpp"

#include <cmath>
#include <sstream>

namespace petlab::report {

namespace {

constexpr const char* kStyle = R"css(
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 24px auto;
       max-width: 1180px; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 40px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav a { margin-right: 14px; }
.lead { color: #555; margin-top: 0; }
.explain { color: #444; max-width: 900px; }
.warning { background: #fff4e5; border: 1px solid #f0c36d; padding: 8px 12px; border-radius: 6px; }
.empty { color: #777; font-style: italic; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px 8px 4px; background: #fff; }
figcaption { font-weight: 600; font-size: 14px; margin: 0 0 4px 4px; }
svg text { font-family: inherit; }
.grid { stroke: #ececec; }
.axis { stroke: #555; }
.tick, .row-label, .legend { font-size: 12px; fill: #333; }
.axis-title { font-size: 13px; fill: #222; }
.note, .value { font-size: 11px; fill: #555; }
.bad { fill: #c0392b; }
.reference { stroke: #333; stroke-dasharray: 4 3; }
table { border-collapse: collapse; font-size: 14px; margin: 6px 0 18px; min-width: 720px; }
th, td { padding: 4px 12px; border-bottom: 1px solid #e6e6e6; text-align: right; }
th:first-child, td:first-child, .text { text-align: left; }
th { background: #f6f6f6; }
td.sig { font-weight: 700; }
code { font-size: 13px; }
details { display: inline; }
pre { background: #f6f6f6; padding: 6px 8px; font-size: 12px; overflow-x: auto; }
)css";

std::string esc(const std::string& s) { return xml_escape(s); }

void results_section(std::ostringstream& html, const std::vector<Group>& groups, const Palette& palette) {
  html << "<section id=\"results\"><h2>Results</h2>\n<p class=\"explain\">Test metric of the finished seeds: "
          "mean \u00b1 sample std (ddof = 1). p: two-sided Welch's t-test against full tuning (method <code>"
       << kBaselineMethod
       << "</code>) with the same task, train size and protocol; bold with * when p &lt; 0.05. Under the legacy "
          "protocol the test score is the dev score of the best step.</p>\n";
  for (const Group& g : groups) {
    html << "<h3>" << esc(group_title(g)) << "</h3>\n<table><thead><tr><th>method</th><th>test " << esc(g.metric)
         << "</th><th>n</th><th>diverged</th><th>failed</th><th>trainable %</th><th>p vs " << kBaselineMethod
         << "</th></tr></thead><tbody>\n";
    for (const MethodRow& row : g.rows) {
      const bool sig = significant(row);
      html << "<tr><td><span style=\"color:" << palette.color(row.label) << "\">\u25a0</span> " << esc(row.label)
           << "</td><td>" << esc(score_cell(row.score)) << "</td><td>" << row.score.n << "</td><td>" << row.diverged
           << "</td><td>" << row.failed << "</td><td>" << esc(percent_cell(row)) << "</td><td"
           << (sig ? " class=\"sig\"" : "") << ">" << esc(p_cell(g, row)) << (sig ? " *" : "") << "</td></tr>\n";
    }
    html << "</tbody></table>\n";
  }
  html << "</section>\n";
}

/// A section of figures; `after` is HTML placed under them (a table).
void figure_section(std::ostringstream& html, const std::string& id, const std::string& title,
                    const std::string& explain, const std::vector<Figure>& figures, const std::string& when_empty,
                    const std::string& after = "") {
  html << "<section id=\"" << id << "\"><h2>" << esc(title) << "</h2>\n<p class=\"explain\">" << esc(explain) << "</p>\n";
  if (figures.empty()) html << "<p class=\"empty\">" << esc(when_empty) << "</p>\n";
  else html << "<div class=\"figures\">\n";
  for (const Figure& f : figures) {
    html << "<figure><figcaption>" << esc(f.title) << "</figcaption>\n" << f.svg << "\n</figure>\n";
  }
  if (!figures.empty()) html << "</div>\n";
  html << after << "</section>\n";
}

std::string inflation_table(const std::vector<Inflation>& inflation) {
  if (inflation.empty()) return "";
  std::ostringstream html;
  html << "<table><thead><tr><th>task</th><th>train_size</th><th class=\"text\">method</th><th>fair</th><th>legacy</th>"
          "<th>legacy \u2212 fair</th></tr></thead><tbody>\n";
  for (const Inflation& i : inflation) {
    html << "<tr><td>" << esc(i.task) << "</td><td>" << train_size_text(i.train_size) << "</td><td class=\"text\">"
         << esc(i.label)
         << "</td><td>" << esc(score_cell(i.fair)) << "</td><td>" << esc(score_cell(i.legacy)) << "</td><td>"
         << (i.inflation() >= 0 ? "+" : "\u2212") << fixed(std::abs(i.inflation()), 4) << "</td></tr>\n";
  }
  html << "</tbody></table>\n";
  return html.str();
}

void problem_list(std::ostringstream& html, const StudyRuns& study, const std::string& title,
                  const std::vector<Problem>& problems) {
  if (problems.empty()) return;
  html << "<h3>" << esc(title) << "</h3>\n<ul>\n";
  for (const Problem& p : problems)
    html << "<li><code>" << esc(shown_path(study, p.file)) << "</code>: " << esc(p.message) << "</li>\n";
  html << "</ul>\n";
}

/// Diverged and failed runs; a multi-line error (the runner appends the worker's log tail) folds away.
void unfinished_list(std::ostringstream& html, const StudyRuns& study) {
  std::vector<const Run*> unfinished;
  for (const Run& r : study.runs)
    if (r.status != RunStatus::finished) unfinished.push_back(&r);
  if (unfinished.empty()) return;
  html << "<h3>Diverged and failed runs</h3>\n<ul>\n";
  for (const Run* r : unfinished) {
    html << "<li><code>" << esc(shown_path(study, r->dir)) << "</code>: " << to_string(r->status);
    const auto line_end = r->error.find('\n');
    if (line_end == std::string::npos) {
      if (!r->error.empty()) html << ": " << esc(r->error);
    } else {
      html << ": <details><summary>" << esc(r->error.substr(0, line_end)) << "</summary><pre>"
           << esc(r->error.substr(line_end + 1)) << "</pre></details>";
    }
    html << "</li>\n";
  }
  html << "</ul>\n";
}

void runs_section(std::ostringstream& html, const StudyRuns& study) {
  html << "<section id=\"runs\"><h2>Runs that need attention</h2>\n";
  bool all_finished = true;
  for (const Run& r : study.runs) all_finished = all_finished && r.status == RunStatus::finished;
  if (all_finished && study.pending.empty() && study.skipped.empty() && study.warnings.empty()) {
    html << "<p class=\"empty\">None: every run finished and every file was read.</p>\n";
  }
  unfinished_list(html, study);
  problem_list(html, study, "Pending", study.pending);
  problem_list(html, study, "Skipped result files", study.skipped);
  problem_list(html, study, "Warnings", study.warnings);
  html << "</section>\n";
}

}  // namespace

std::string report_html(const StudyRuns& study, const std::vector<Group>& groups) {
  const Palette palette(groups);
  const auto inflation = protocol_inflation(groups);
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n<title>petlab report: "
       << esc(study_names(study)) << "</title>\n<style>" << kStyle << "</style></head>\n<body>\n<header><h1>Study report: "
       << esc(study_names(study)) << "</h1>\n<p class=\"lead\">" << esc(run_counts(study)) << " in <code>"
       << esc(study.dir.string()) << "</code></p>\n";
  if (!study.skipped.empty()) {
    html << "<p class=\"warning\">" << study.skipped.size()
         << " result file(s) could not be read and are left out: see <a href=\"#runs\">Runs that need attention</a>.</p>\n";
  }
  html << "<nav><a href=\"#results\">Results</a><a href=\"#stability\">Stability</a><a href=\"#convergence\">"
          "Convergence</a><a href=\"#parameters\">Score vs parameters</a><a href=\"#cost\">Cost</a><a href=\"#protocol\">"
          "Fair vs legacy</a><a href=\"#runs\">Runs</a></nav></header>\n";
  results_section(html, groups, palette);
  figure_section(html, "stability", "1. Stability over seeds",
                 "Each dot is one finished seed's test score; the box spans the first to third quartile with the median "
                 "as a thick line, the whiskers reach the lowest and highest seed. n = finished seeds, \u2715 = diverged "
                 "or failed seeds.",
                 stability_plots(groups, palette), "No finished runs to show.");
  figure_section(html, "convergence", "2. Convergence",
                 "The dev metric during training: the line is the mean over the seeds evaluated at that step, the band "
                 "their minimum to maximum.",
                 convergence_plots(groups, palette), "No curve.jsonl holds a dev evaluation.");
  figure_section(html, "parameters", "3. Score vs trainable parameters",
                 "Mean test score (error bars: \u00b1 one std over seeds) against the number of trainable parameters, "
                 "on a log scale.",
                 parameter_plots(groups, palette), "No finished run reports its trainable parameters.");
  figure_section(html, "cost", "4. Cost relative to full tuning",
                 "Mean wall-clock time and peak resident memory of the finished runs, divided by those of full tuning "
                 "in the same group (dashed line: full tuning = 1).",
                 cost_plots(groups), "No group has a full-tuning baseline with run time or memory to compare with.");
  figure_section(html, "protocol", "5. Fair vs legacy protocol",
                 "For each method run under both protocols: how much the legacy protocol (early stopping and reporting "
                 "on the same evaluation set) inflates the reported score, mean(legacy) \u2212 mean(fair).",
                 inflation_plots(inflation), "No task and method was run under both the fair and the legacy protocol.",
                 inflation_table(inflation));
  runs_section(html, study);
  html << "</body></html>\n";
  return html.str();
}

}  // namespace petlab::report
