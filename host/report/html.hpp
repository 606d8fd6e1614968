// report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) with the result
// tables and the five figures: stability, convergence, score vs parameters, cost, fair vs legacy.
#pragma once

#include "report/groups.hpp"
#include "report/runs.hpp"

#include <string>
#include <vector>

namespace petlab::report {

std::string report_html(const StudyRuns& study, const std::vector<Group>& groups);

}  // namespace petlab::report
