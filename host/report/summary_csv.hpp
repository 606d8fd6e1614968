// summary.csv: one tidy row per run, for pandas / R / a spreadsheet.
#pragma once

#include "report/runs.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace petlab::report {

/// The fixed columns, in order; the spec's backbone.* and train.* settings follow, sorted by name.
const std::vector<std::string>& summary_columns();

/// The CSV text: a header, then the runs sorted by (task, method_label, train_size, protocol, seed).
/// RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled.
std::string summary_csv(const std::vector<Run>& runs);

/// One field, quoted when RFC 4180 requires it.
std::string csv_field(std::string_view text);

}  // namespace petlab::report
