// Reads a text file whole and checks it before any format reader sees it.
#include "petlab/tasks/readers.hpp"
#include "petlab/tasks/text.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace petlab::tasks {

TextFile read_text_file(const std::filesystem::path& path) {
  TextFile file;
  file.path = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail({file.path}, "no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail({file.path}, "cannot open the file for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  file.content = buffer.str();
  if (file.content.rfind("\xEF\xBB\xBF", 0) == 0) file.content.erase(0, 3);  // byte-order mark (MRPC)
  const bool blank = std::all_of(file.content.begin(), file.content.end(),
                                 [](char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; });
  if (blank) fail({file.path}, "the file is empty");
  if (auto bad = text::find_invalid_utf8(file.content)) {
    const std::size_t line = 1 + std::count(file.content.begin(), file.content.begin() + *bad, '\n');
    const std::size_t line_start = file.content.rfind('\n', *bad == 0 ? 0 : *bad - 1);
    const std::size_t column = *bad - (line_start == std::string::npos ? 0 : line_start + 1) + 1;
    fail({file.path, line}, "invalid UTF-8 at byte column " + std::to_string(column) +
                                " (byte 0x" + [&] {
                                  static const char* hex = "0123456789abcdef";
                                  const auto b = static_cast<unsigned char>(file.content[*bad]);
                                  return std::string{hex[b >> 4], hex[b & 15]};
                                }() + "); the file must be UTF-8");
  }
  std::string_view rest = file.content;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    file.lines.push_back(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return file;
}

std::optional<std::size_t> Table::find_column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  return std::nullopt;
}

std::size_t Table::column(std::string_view name) const {
  if (auto i = find_column(name)) return *i;
  std::string have;
  for (const auto& h : header) have += (have.empty() ? "" : ", ") + h;
  fail({path, 1}, "missing column '" + std::string(name) + "' (the header has: " + have + ")");
}

}  // namespace petlab::tasks
