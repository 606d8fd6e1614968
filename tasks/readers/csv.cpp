// RFC 4180 CSV (E2E NLG, AG News): quoted fields may hold commas, doubled quotes and line breaks.
#include "petlab/tasks/readers.hpp"

namespace petlab::tasks {

Table read_csv(const std::filesystem::path& path, const TableLayout& layout) {
  const TextFile file = read_text_file(path);
  Table table;
  table.path = file.path;
  bool header_pending = layout.header;

  // Parse over the lines so that record line numbers stay exact; a quoted field may span lines.
  std::size_t i = 0;
  while (i < file.lines.size()) {
    if (file.lines[i].empty()) {
      ++i;
      continue;
    }
    const std::size_t record_line = i + 1;
    std::vector<std::string> fields;
    std::string field;
    bool in_quotes = false, field_was_quoted = false;
    std::size_t quote_line = 0;
    for (;;) {
      std::string_view line = file.lines[i];
      for (std::size_t k = 0; k < line.size(); ++k) {
        const char c = line[k];
        if (in_quotes) {
          if (c == '"') {
            if (k + 1 < line.size() && line[k + 1] == '"') {
              field.push_back('"');
              ++k;
            } else {
              in_quotes = false;
            }
          } else {
            field.push_back(c);
          }
        } else if (c == ',') {
          fields.push_back(std::move(field));
          field.clear();
          field_was_quoted = false;
        } else if (c == '"' && field.empty() && !field_was_quoted) {
          in_quotes = field_was_quoted = true;
          quote_line = i + 1;
        } else if (c == '"') {
          fail({file.path, i + 1}, "stray quote inside an unquoted field (column " +
                                       std::to_string(fields.size() + 1) + "); quote the field and double the quote");
        } else {
          if (field_was_quoted) {
            fail({file.path, i + 1}, "text after the closing quote of column " + std::to_string(fields.size() + 1));
          }
          field.push_back(c);
        }
      }
      ++i;
      if (!in_quotes) break;
      if (i >= file.lines.size())
        fail({file.path, quote_line}, "unterminated quoted field (the quote opened here never closes)");
      field.push_back('\n');  // a line break inside quotes is part of the field
    }
    fields.push_back(std::move(field));
    if (header_pending) {
      table.header = std::move(fields);
      header_pending = false;
      continue;
    }
    const std::size_t expected = layout.header ? table.header.size() : layout.expected_columns;
    if (expected && fields.size() != expected) {
      fail({file.path, record_line}, "expected " + std::to_string(expected) + " comma-separated columns, found " +
                                         std::to_string(fields.size()));
    }
    table.rows.push_back({record_line, std::move(fields)});
  }
  return table;
}

}  // namespace petlab::tasks
