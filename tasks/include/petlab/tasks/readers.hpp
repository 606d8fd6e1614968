// Readers for the canonical distribution formats. Each checks what it reads and fails with a DataError
// naming the file and line: unreadable or empty file, invalid UTF-8, wrong column count, malformed JSON.
#pragma once

#include "petlab/tasks/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace petlab::tasks {

/// A whole text file: UTF-8 checked, a leading byte-order mark dropped, split into lines without their
/// "\n" or "\r\n" endings.
struct TextFile {
  std::string path;
  std::string content;
  std::vector<std::string_view> lines;  ///< views into content; lines[i] is line i + 1
};
/// Fails on a missing/unreadable file, an empty one and invalid UTF-8 (naming line and column).
TextFile read_text_file(const std::filesystem::path& path);

/// One data row of a table (TSV/CSV) with the line it starts on.
struct Row {
  std::size_t line = 0;
  std::vector<std::string> fields;
};

/// A table: the header (empty when the format has none) and the data rows, each checked to have as many
/// columns as the header (or `expected_columns` for header-less files).
struct Table {
  std::string path;
  std::vector<std::string> header;
  std::vector<Row> rows;
  /// Index of a header column; fails naming the file and the columns it does have.
  std::size_t column(std::string_view name) const;
  std::optional<std::size_t> find_column(std::string_view name) const;
  Where where(const Row& row) const { return {path, row.line}; }
};

/// How a table's first line is read.
struct TableLayout {
  bool header = true;                   ///< the first non-empty line names the columns
  std::size_t expected_columns = 0;     ///< without a header: the fixed column count (0 = any)
};

/// GLUE-style TSV: fields split on tabs only, no quoting (quotes are text); empty lines are skipped.
Table read_tsv(const std::filesystem::path& path, const TableLayout& layout);
/// RFC 4180 CSV: quoted fields with doubled quotes, embedded commas and newlines, CRLF; empty lines skipped.
Table read_csv(const std::filesystem::path& path, const TableLayout& layout);

/// One JSON value with the line it came from (for a JSON file: its element index + the value's line).
struct JsonRecord {
  std::size_t line = 0;
  nlohmann::json value;
};
/// JSON Lines: one object per non-empty line.
std::vector<JsonRecord> read_jsonl(const std::filesystem::path& path);
/// A JSON file holding a list of objects (SAMSum).
std::vector<JsonRecord> read_json_list(const std::filesystem::path& path);

/// Typed access to JSON object fields with errors that name file, line and key.
namespace json_field {
const nlohmann::json& get(const nlohmann::json& obj, std::string_view key, const Where& where);
const nlohmann::json* find(const nlohmann::json& obj, std::string_view key);
std::string string(const nlohmann::json& obj, std::string_view key, const Where& where);
long long integer(const nlohmann::json& obj, std::string_view key, const Where& where);
/// A scalar id field (integer or string) as text.
std::string id(const nlohmann::json& obj, std::string_view key, const Where& where);
const nlohmann::json& array(const nlohmann::json& obj, std::string_view key, const Where& where);
const nlohmann::json& object(const nlohmann::json& obj, std::string_view key, const Where& where);
/// JSON type name for messages ("string", "number", ...).
std::string type_name(const nlohmann::json& v);
}  // namespace json_field

}  // namespace petlab::tasks
