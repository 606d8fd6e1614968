// JSON Lines (SuperGLUE, HF `datasets` exports) and JSON lists (SAMSum), with typed field access.
#include "petlab/tasks/readers.hpp"

#include <algorithm>

namespace petlab::tasks {

namespace {

std::string parse_message(const nlohmann::json::parse_error& e) {
  // nlohmann's what() starts with "[json.exception.parse_error.101] parse error at line 1, column 5: ";
  // keep the part after the last ": " that names the problem.
  std::string what = e.what();
  const std::size_t colon = what.find(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

std::vector<JsonRecord> read_jsonl(const std::filesystem::path& path) {
  const TextFile file = read_text_file(path);
  std::vector<JsonRecord> records;
  for (std::size_t i = 0; i < file.lines.size(); ++i) {
    const std::string_view line = file.lines[i];
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    JsonRecord r{i + 1, {}};
    try {
      r.value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail({file.path, i + 1}, "malformed JSON: " + parse_message(e));
    }
    if (!r.value.is_object()) fail({file.path, i + 1}, "expected a JSON object, found " + json_field::type_name(r.value));
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<JsonRecord> read_json_list(const std::filesystem::path& path) {
  const TextFile file = read_text_file(path);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(file.content);
  } catch (const nlohmann::json::parse_error& e) {
    const std::size_t byte = std::min(e.byte == 0 ? 0 : e.byte - 1, file.content.size());
    const std::size_t line = 1 + std::count(file.content.begin(), file.content.begin() + byte, '\n');
    fail({file.path, line}, "malformed JSON: " + parse_message(e));
  }
  if (!doc.is_array()) fail({file.path, 1}, "expected a JSON list of objects, found " + json_field::type_name(doc));
  // Each element's line: where its opening bracket sits at depth 1 (strings skipped).
  std::vector<std::size_t> starts;
  int depth = 0;
  bool in_string = false, escaped = false;
  std::size_t line = 1;
  for (char c : file.content) {
    if (c == '\n') ++line;
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (depth == 1) starts.push_back(line);
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  std::vector<JsonRecord> records;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const std::size_t at = i < starts.size() ? starts[i] : 0;
    if (!doc[i].is_object())
      fail({file.path, at}, "element " + std::to_string(i) + ": expected a JSON object, found " + json_field::type_name(doc[i]));
    records.push_back({at, std::move(doc[i])});
  }
  return records;
}

namespace json_field {

std::string type_name(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  return "an object";
}

const nlohmann::json* find(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

const nlohmann::json& get(const nlohmann::json& obj, std::string_view key, const Where& where) {
  if (const auto* v = find(obj, key)) return *v;
  fail(where, "missing key \"" + std::string(key) + "\"");
}

std::string string(const nlohmann::json& obj, std::string_view key, const Where& where) {
  const auto& v = get(obj, key, where);
  if (!v.is_string()) fail(where, "key \"" + std::string(key) + "\" should be a string, found " + type_name(v));
  return v.get<std::string>();
}

long long integer(const nlohmann::json& obj, std::string_view key, const Where& where) {
  const auto& v = get(obj, key, where);
  if (!v.is_number_integer()) fail(where, "key \"" + std::string(key) + "\" should be an integer, found " + type_name(v));
  return v.get<long long>();
}

std::string id(const nlohmann::json& obj, std::string_view key, const Where& where) {
  const auto& v = get(obj, key, where);
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_string()) return v.get<std::string>();
  fail(where, "key \"" + std::string(key) + "\" should be an integer or a string id, found " + type_name(v));
}

const nlohmann::json& array(const nlohmann::json& obj, std::string_view key, const Where& where) {
  const auto& v = get(obj, key, where);
  if (!v.is_array()) fail(where, "key \"" + std::string(key) + "\" should be a list, found " + type_name(v));
  return v;
}

const nlohmann::json& object(const nlohmann::json& obj, std::string_view key, const Where& where) {
  const auto& v = get(obj, key, where);
  if (!v.is_object()) fail(where, "key \"" + std::string(key) + "\" should be an object, found " + type_name(v));
  return v;
}

}  // namespace json_field
}  // namespace petlab::tasks
