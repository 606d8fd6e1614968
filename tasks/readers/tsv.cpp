// GLUE TSV: tab-separated, unquoted (GLUE's files are written with QUOTE_NONE, so quotes are text).
#include "petlab/tasks/readers.hpp"

namespace petlab::tasks {

namespace {

std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t tab; (tab = line.find('\t', start)) != std::string_view::npos; start = tab + 1)
    fields.emplace_back(line.substr(start, tab - start));
  fields.emplace_back(line.substr(start));
  return fields;
}

std::string describe_columns(const std::vector<std::string>& header) {
  std::string s;
  for (const auto& h : header) s += (s.empty() ? "" : ", ") + h;
  return s;
}

}  // namespace

Table read_tsv(const std::filesystem::path& path, const TableLayout& layout) {
  const TextFile file = read_text_file(path);
  Table table;
  table.path = file.path;
  bool header_pending = layout.header;
  for (std::size_t i = 0; i < file.lines.size(); ++i) {
    if (file.lines[i].empty()) continue;
    std::vector<std::string> fields = split_tabs(file.lines[i]);
    if (header_pending) {
      table.header = std::move(fields);
      header_pending = false;
      continue;
    }
    const std::size_t expected = layout.header ? table.header.size() : layout.expected_columns;
    if (expected && fields.size() != expected) {
      fail({file.path, i + 1},
           "expected " + std::to_string(expected) + " tab-separated columns" +
               (layout.header ? " (" + describe_columns(table.header) + ")" : "") + ", found " +
               std::to_string(fields.size()));
    }
    table.rows.push_back({i + 1, std::move(fields)});
  }
  return table;
}

}  // namespace petlab::tasks
