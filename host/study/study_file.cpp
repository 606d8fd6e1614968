#include "study/study_file.hpp"

#include "core/error.hpp"
#include "core/suggest.hpp"
#include "study/train_settings.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdlib>

namespace petlab {
namespace fs = std::filesystem;
namespace {

/// Reads one table of the file, remembering where each key is and refusing keys it does not know.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, const fs::path& file)
      : table_(table), path_(std::move(path)), file_(file) {}

  SourceLocation where(const toml::node& node) const {
    return {file_, static_cast<int64_t>(node.source().begin.line), static_cast<int64_t>(node.source().begin.column)};
  }
  SourceLocation where() const { return where(table_); }
  std::string key_name(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& message) const {
    throw Error(fmt::format("{}: {}: {}", where(node).to_string(), key_name(key), message));
  }
  [[noreturn]] void fail_here(const std::string& message) const {
    throw Error(fmt::format("{}: [{}]: {}", where().to_string(), path_, message));
  }

  /// Every key must be one of `known`.
  void only(const std::vector<std::string>& known) const {
    for (auto&& [key, node] : table_) {
      const std::string name(key.str());
      if (std::find(known.begin(), known.end(), name) == known.end())
        fail(node, name, fmt::format("unknown key{}; expected one of: {}", did_you_mean(name, known), join(known)));
    }
  }

  const toml::node* get(const std::string& key) const { return table_.get(key); }

  std::string string(const std::string& key, const std::string& fallback, bool required = false) const {
    const toml::node* n = get(key);
    if (n == nullptr) {
      if (required) fail_here(fmt::format("missing key '{}' (a string)", key));
      return fallback;
    }
    if (!n->is_string()) fail(*n, key, fmt::format("expected a string, got {}", type_name(*n)));
    return *n->value<std::string>();
  }

  int64_t integer(const std::string& key, int64_t fallback) const {
    const toml::node* n = get(key);
    if (n == nullptr) return fallback;
    if (!n->is_integer()) fail(*n, key, fmt::format("expected an integer, got {}", type_name(*n)));
    return *n->value<int64_t>();
  }

  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::table: return "a table";
      case toml::node_type::array: return "an array";
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      default: return "a date/time";
    }
  }
  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

  const toml::table& table() const { return table_; }
  const fs::path& file() const { return file_; }

 private:
  const toml::table& table_;
  std::string path_;
  const fs::path& file_;
};

nlohmann::json to_json(const toml::node& node) {
  if (const auto* t = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto&& [k, v] : *t) out[std::string(k.str())] = to_json(v);
    return out;
  }
  if (const auto* a = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : *a) out.push_back(to_json(v));
    return out;
  }
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto i = node.value_exact<int64_t>()) return *i;
  if (auto d = node.value_exact<double>()) return *d;
  if (auto b = node.value_exact<bool>()) return *b;
  return node.is_date_time() || node.is_date() || node.is_time() ? nlohmann::json("<date/time>") : nlohmann::json();
}

/// Replaces every "${name}" in `text` by [paths].name or the environment variable `name`; a [paths] value may
/// itself hold "${...}" (paths.toml: minilm = "${PETLAB_MINILM}"), expanded in turn.
std::string expand_variables(const std::string& text, const std::map<std::string, std::string>& vars,
                             const TableReader& r, const toml::node& node, const std::string& key, int depth = 0) {
  if (depth > 8) r.fail(node, key, "path variables refer to each other in a cycle");
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "${") == 0) {
      const size_t end = text.find('}', i);
      if (end == std::string::npos) r.fail(node, key, "unterminated '${' in a path");
      const std::string name = text.substr(i + 2, end - i - 2);
      if (auto it = vars.find(name); it != vars.end()) out += expand_variables(it->second, vars, r, node, key, depth + 1);
      else if (const char* env = std::getenv(name.c_str())) out += env;
      else r.fail(node, key, fmt::format("'${{{}}}' is neither a key of [paths] nor an environment variable", name));
      i = end + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

/// A path with its variables expanded; relative results are taken from the study file's folder.
fs::path resolve_path(const std::string& text, const std::map<std::string, std::string>& vars, const TableReader& r,
                      const toml::node& node, const std::string& key) {
  fs::path p(expand_variables(text, vars, r, node, key));
  return p.is_absolute() ? p : (r.file().parent_path() / p).lexically_normal();
}

const toml::table& child_table(const TableReader& r, const std::string& key) {
  static const toml::table empty;
  const toml::node* n = r.get(key);
  if (n == nullptr) return empty;
  if (!n->is_table()) r.fail(*n, key, fmt::format("expected a table, got {}", TableReader::type_name(*n)));
  return *n->as_table();
}

/// [paths]: name = "value" variables for "${name}" in paths. `include = "FILE"` first reads FILE's [paths]
/// (relative to the study file), so a folder of studies can set its model and data paths in one place; the
/// study's own keys win. A relative value from the included file is taken from that file's folder.
std::map<std::string, std::string> read_path_variables(const TableReader& top) {
  std::map<std::string, std::string> vars;
  const toml::table& paths = child_table(top, "paths");
  if (const toml::node* include = paths.get("include")) {
    if (!include->is_string()) top.fail(*include, "paths.include", "expected a string: a TOML file with a [paths] table");
    const fs::path file = resolve_path(*include->value<std::string>(), {}, top, *include, "paths.include");
    toml::table root;
    try {
      root = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
      if (!fs::exists(file)) top.fail(*include, "paths.include", fmt::format("no such file: {}", file.string()));
      throw Error(fmt::format("{}:{}:{}: TOML syntax error: {}", file.string(), e.source().begin.line,
                              e.source().begin.column, e.description()));
    }
    const TableReader shared(root, "", file);
    shared.only({"paths"});
    for (auto&& [k, v] : child_table(shared, "paths")) {
      const std::string key = "paths." + std::string(k.str());
      if (!v.is_string()) shared.fail(v, key, "a path variable is a string");
      std::string value = *v.value<std::string>();
      if (!value.empty() && value[0] != '/' && value[0] != '$') value = (file.parent_path() / value).lexically_normal().string();
      vars[std::string(k.str())] = value;
    }
  }
  for (auto&& [k, v] : paths) {
    if (k.str() == "include") continue;
    if (!v.is_string()) top.fail(v, "paths." + std::string(k.str()), "a path variable is a string");
    vars[std::string(k.str())] = *v.value<std::string>();
  }
  return vars;
}

std::vector<uint64_t> read_seeds(const TableReader& r) {
  const toml::node* n = r.get("seeds");
  if (n == nullptr) return {0, 1, 2};
  std::vector<uint64_t> seeds;
  if (auto count = n->value_exact<int64_t>()) {
    if (*count <= 0) r.fail(*n, "seeds", "a seed count must be at least 1");
    for (int64_t i = 0; i < *count; ++i) seeds.push_back(static_cast<uint64_t>(i));
  } else if (const auto* list = n->as_array()) {
    for (const auto& v : *list) {
      auto s = v.value_exact<int64_t>();
      if (!s || *s < 0) r.fail(v, "seeds", "a seed list holds non-negative integers");
      seeds.push_back(static_cast<uint64_t>(*s));
    }
    if (seeds.empty()) r.fail(*n, "seeds", "the seed list is empty: nothing would run");
  } else {
    r.fail(*n, "seeds", fmt::format("expected a count or a list of integers, got {}", TableReader::type_name(*n)));
  }
  return seeds;
}

std::vector<std::string> read_protocols(const TableReader& r) {
  const toml::node* n = r.get("protocol");
  std::vector<std::string> out;
  auto check = [&](const toml::node& v) {
    auto s = v.value_exact<std::string>();
    if (!s || (*s != "fair" && *s != "legacy")) r.fail(v, "protocol", "expected \"fair\" or \"legacy\" (or a list of them)");
    out.push_back(*s);
  };
  if (n == nullptr) return {"fair"};
  if (const auto* list = n->as_array()) {
    for (const auto& v : *list) check(v);
    if (out.empty()) r.fail(*n, "protocol", "the protocol list is empty");
  } else {
    check(*n);
  }
  return out;
}

nlohmann::json read_train(const TableReader& r) {
  std::vector<std::string> names;
  for (const auto& k : train_keys()) names.push_back(k.name);
  r.only(names);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& key : train_keys()) {
    const toml::node* n = r.get(key.name);
    if (n == nullptr) continue;
    const nlohmann::json value = to_json(*n);
    // A list is a sweep axis: every element must fit.
    const bool fits = value.is_array() ? !value.empty() && std::all_of(value.begin(), value.end(), [&](const auto& v) {
      return train_value_fits(key, v);
    })
                                       : train_value_fits(key, value);
    if (!fits)
      r.fail(*n, key.name, fmt::format("expected {} (or a non-empty list of them to sweep), got {}",
                                       key.name == "eval_every" ? "\"epoch\" or a positive step count"
                                                                : "a value like " + key.default_value.dump(),
                                       value.dump()));
    out[key.name] = value;
  }
  return out;
}

StudyMethod read_method(const TableReader& r) {
  StudyMethod m;
  m.id = r.string("id", "", true);
  m.where = r.where();
  const toml::table& knobs = child_table(r, "knobs");
  m.knobs = to_json(knobs);
  for (auto&& [k, v] : knobs) m.knob_where[std::string(k.str())] = r.where(v);
  return m;
}

StudyMethodEntry read_method_entry(const TableReader& r) {
  StudyMethodEntry e;
  e.where = r.where();
  const bool stacked = r.get("stack") != nullptr;
  r.only(stacked ? std::vector<std::string>{"stack", "label", "train"} : std::vector<std::string>{"id", "knobs", "label", "train"});
  if (stacked) {
    const toml::node* s = r.get("stack");
    const auto* list = s->as_array();
    if (list == nullptr || list->empty())
      r.fail(*s, "stack", "expected a non-empty array of tables {id = \"...\", knobs = {...}}");
    for (size_t i = 0; i < list->size(); ++i) {
      const toml::node& item = *list->get(i);
      if (!item.is_table()) r.fail(item, "stack", "each entry is a table {id = \"...\", knobs = {...}}");
      TableReader sub(*item.as_table(), r.key_name(fmt::format("stack[{}]", i)), r.file());
      sub.only({"id", "knobs"});
      e.stack.push_back(read_method(sub));
    }
  } else {
    e.stack.push_back(read_method(r));
  }
  std::string ids;
  for (const auto& m : e.stack) ids += (ids.empty() ? "" : "+") + m.id;
  e.label = r.string("label", ids);
  TableReader train(child_table(r, "train"), r.key_name("train"), r.file());
  e.train = read_train(train);
  return e;
}

template <class Fn>
void for_each_table_in_array(const TableReader& r, const std::string& key, Fn&& fn) {
  const toml::node* n = r.get(key);
  if (n == nullptr) return;
  const auto* list = n->as_array();
  if (list == nullptr || !list->is_array_of_tables())
    r.fail(*n, key, fmt::format("expected [[{}]] tables", key));
  for (size_t i = 0; i < list->size(); ++i)
    fn(TableReader(*list->get(i)->as_table(), fmt::format("{}[{}]", key, i), r.file()));
}

}  // namespace

std::string SourceLocation::to_string() const {
  return line > 0 ? fmt::format("{}:{}:{}", file.string(), line, column) : file.string();
}

StudyFile read_study_file(const fs::path& file) {
  if (!fs::exists(file)) throw Error(fmt::format("study file '{}' does not exist", file.string()));
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw Error(fmt::format("{}:{}:{}: TOML syntax error: {}", file.string(), e.source().begin.line,
                            e.source().begin.column, e.description()));
  }
  StudyFile study;
  study.path = fs::absolute(file);
  const TableReader top(root, "", study.path);
  top.only({"study", "paths", "backbone", "train", "tasks", "methods"});

  const auto vars = read_path_variables(top);

  const TableReader s(child_table(top, "study"), "study", study.path);
  s.only({"name", "output", "seeds", "protocol"});
  if (top.get("study") == nullptr) throw Error(fmt::format("{}: missing [study] table (name, output, seeds, protocol)", file.string()));
  study.name = s.string("name", "", true);
  if (study.name.empty() || study.name.find_first_of("/\\ ") != std::string::npos)
    s.fail(*s.get("name"), "name", "a study name is a non-empty folder name without '/', '\\' or spaces");
  study.output = s.get("output") ? resolve_path(s.string("output", ""), vars, s, *s.get("output"), "output")
                                 : study.path.parent_path() / "runs";
  study.seeds = read_seeds(s);
  study.protocols = read_protocols(s);

  const TableReader b(child_table(top, "backbone"), "backbone", study.path);
  b.only({"model", "device", "dtype", "max_length"});
  if (top.get("backbone") == nullptr) throw Error(fmt::format("{}: missing [backbone] table (model = \"<HF model folder>\")", file.string()));
  study.backbone.where = b.where();
  b.string("model", "", true);
  study.backbone.model = resolve_path(b.string("model", ""), vars, b, *b.get("model"), "model");
  study.backbone.device = b.string("device", "cpu");
  study.backbone.dtype = b.string("dtype", "fp32");
  study.backbone.max_length = b.integer("max_length", 128);
  if (study.backbone.max_length <= 0) b.fail(*b.get("max_length"), "max_length", "must be positive");

  study.train = read_train(TableReader(child_table(top, "train"), "train", study.path));

  for_each_table_in_array(top, "tasks", [&](const TableReader& t) {
    t.only({"id", "data", "train_size"});
    StudyTask task;
    task.where = t.where();
    task.id = t.string("id", "", true);
    t.string("data", "", true);
    task.data = resolve_path(t.string("data", ""), vars, t, *t.get("data"), "data");
    task.data_where = t.where(*t.get("data"));
    if (const toml::node* n = t.get("train_size")) {
      auto one = [&](const toml::node& v) {
        auto size = v.value_exact<int64_t>();
        if (!size || *size <= 0) t.fail(v, "train_size", "expected a positive integer (or a list of them: data scales)");
        task.train_sizes.emplace_back(*size);
      };
      if (const auto* list = n->as_array()) {
        for (const auto& v : *list) one(v);
        if (task.train_sizes.empty()) t.fail(*n, "train_size", "the list of data scales is empty");
      } else {
        one(*n);
      }
    } else {
      task.train_sizes.emplace_back(std::nullopt);
    }
    study.tasks.push_back(std::move(task));
  });
  for_each_table_in_array(top, "methods", [&](const TableReader& m) { study.methods.push_back(read_method_entry(m)); });

  if (study.tasks.empty()) throw Error(fmt::format("{}: the grid is empty: add at least one [[tasks]] entry", file.string()));
  if (study.methods.empty()) throw Error(fmt::format("{}: the grid is empty: add at least one [[methods]] entry", file.string()));
  return study;
}

}  // namespace petlab
