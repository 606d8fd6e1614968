// Helpers of the report tests: scratch folders, run files, a CSV reader, well-formedness and coordinate
// checks for the HTML, and running the report command.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace petlab::testing {

/// A fresh folder under the system temp folder, removed when the object goes away.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path& file);
/// Writes `text` exactly, creating the folders on the way.
void write_text(const std::filesystem::path& file, const std::string& text);

/// A result.json the trainer could have written for a finished run.
nlohmann::json finished_result(const std::string& cell, int seed, const std::string& method, double test);

/// RFC 4180 records (quoted fields, doubled quotes, CRLF or LF line ends).
std::vector<std::vector<std::string>> parse_csv(const std::string& text);

/// "" when every tag of `text` closes in order and every '&' starts an entity; else the first problem.
std::string markup_problem(const std::string& text);
/// Every <svg>…</svg> element of an HTML page.
std::vector<std::string> svg_elements(const std::string& html);
/// Coordinate attributes (x, y, cx, points, width, viewBox, …) whose numbers do not parse or are not finite.
std::vector<std::string> bad_coordinates(const std::string& svg);
/// Positions (x, y, x1, …, cy) outside the <svg>'s width × height: marks or labels drawn off the canvas.
std::vector<std::string> off_canvas(const std::string& svg);

struct CommandResult {
  int exit_code;
  std::string out, err;
};
/// Runs REPORT_CLI (the report command alone) with `args`.
CommandResult run_report_cli(const std::string& args);

}  // namespace petlab::testing
