#include "report/report_files.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace petlab::testing {

namespace fs = std::filesystem;

ScratchDir::ScratchDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("petlab-report-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

nlohmann::json finished_result(const std::string& cell, int seed, const std::string& method, double test) {
  return {{"study", "unit"}, {"cell", cell}, {"seed", seed}, {"task", "glue/sst2"}, {"metric", "accuracy"},
          {"method", method}, {"method_label", method}, {"knobs", nlohmann::json::object()},
          {"methods", nlohmann::json::array()}, {"train_size", 100}, {"protocol", "fair"}, {"status", "finished"},
          {"best_dev", {{"accuracy", test + 0.01}}}, {"test", {{"accuracy", test}}}, {"trainable_params", 1000},
          {"percent_trainable", 1.5}, {"steps", 100}, {"steps_to_best", 50}, {"wall_time_s", 10.0},
          {"tokens_per_s", 100.0}, {"peak_rss_mb", 500.0}, {"error", nullptr}};
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, field_started = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = field_started = true;
    } else if (c == ',') {
      record.push_back(field), field.clear();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(field), field.clear();
      records.push_back(record), record.clear();
      field_started = false;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (!field.empty() || !record.empty()) record.push_back(field), records.push_back(record);
  return records;
}

std::string markup_problem(const std::string& text) {
  std::vector<std::string> open;
  const std::regex entity("^&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);");
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      if (!std::regex_search(text.substr(i, 12), entity)) return "a bare '&' at offset " + std::to_string(i);
      continue;
    }
    if (text[i] != '<') continue;
    if (text.compare(i, 4, "<!--") == 0) {
      i = text.find("-->", i);
      if (i == std::string::npos) return "an unclosed comment";
      continue;
    }
    // The tag ends at the first '>' outside quotes.
    std::size_t end = i + 1;
    char quote = 0;
    for (; end < text.size(); ++end) {
      if (quote) quote = text[end] == quote ? 0 : quote;
      else if (text[end] == '"' || text[end] == '\'') quote = text[end];
      else if (text[end] == '>') break;
      else if (text[end] == '<') return "a '<' inside a tag at offset " + std::to_string(end);
    }
    if (end >= text.size()) return "an unclosed tag at offset " + std::to_string(i);
    const std::string tag = text.substr(i + 1, end - i - 1);
    i = end;
    if (tag.starts_with("!")) continue;  // <!DOCTYPE html>
    if (tag.starts_with("/")) {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes <" + (open.empty() ? std::string("nothing") : open.back()) + ">";
      open.pop_back();
      continue;
    }
    if (tag.ends_with("/")) continue;
    open.push_back(tag.substr(0, tag.find_first_of(" \t\n")));
  }
  if (!open.empty()) return "<" + open.back() + "> never closes";
  return "";
}

std::vector<std::string> svg_elements(const std::string& html) {
  std::vector<std::string> out;
  for (std::size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) {
    const auto end = html.find("</svg>", at);
    out.push_back(end == std::string::npos ? html.substr(at) : html.substr(at, end + 6 - at));
  }
  return out;
}

std::vector<std::string> bad_coordinates(const std::string& svg) {
  static const std::set<std::string> kCoordinates = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r",
                                                      "width", "height", "points", "viewBox", "transform"};
  std::vector<std::string> bad;
  const std::regex attribute(R"re(\s([A-Za-z][\w-]*)="([^"]*)")re");
  for (std::sregex_iterator it(svg.begin(), svg.end(), attribute), end; it != end; ++it) {
    if (!kCoordinates.count((*it)[1])) continue;
    std::string value = (*it)[2];
    if (value.starts_with("rotate(")) value = value.substr(7, value.size() - 8);
    for (char& c : value)
      if (c == ',') c = ' ';
    std::istringstream tokens(value);
    for (std::string token; tokens >> token;) {
      char* stop = nullptr;
      const double v = std::strtod(token.c_str(), &stop);
      if (*stop != '\0' || !std::isfinite(v)) bad.push_back((*it)[1].str() + "=\"" + (*it)[2].str() + "\"");
    }
  }
  return bad;
}

std::vector<std::string> off_canvas(const std::string& svg) {
  const std::regex size(R"re(<svg[^>]* width="([0-9.]+)" height="([0-9.]+)")re");
  std::smatch m;
  if (!std::regex_search(svg, m, size)) return {"no width and height on <svg>"};
  const double width = std::stod(m[1]), height = std::stod(m[2]);
  std::vector<std::string> off;
  const std::regex position(R"re(\s(x|x1|x2|cx|y|y1|y2|cy)="(-?[0-9.]+)")re");
  for (std::sregex_iterator it(svg.begin(), svg.end(), position), end; it != end; ++it) {
    const double v = std::stod((*it)[2]);
    const double limit = (*it)[1].str().find('x') != std::string::npos ? width : height;
    if (v < 0 || v > limit) off.push_back((*it)[1].str() + "=" + (*it)[2].str());
  }
  return off;
}

CommandResult run_report_cli(const std::string& args) {
  ScratchDir scratch("cli");
  const auto out = scratch.path() / "out", err = scratch.path() / "err";
  const std::string command = std::string(REPORT_CLI) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(out), read_text(err)};
}

}  // namespace petlab::testing
