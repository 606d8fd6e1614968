// Helpers the task families share.
#include "common.hpp"

#include "petlab/tasks/metrics.hpp"
#include "petlab/tasks/text.hpp"

#include <cmath>

namespace petlab::tasks::family {

int parse_label(const std::string& raw, const std::vector<std::string>& values, const Where& where,
                const std::string& column) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i] == raw) return static_cast<int>(i);
  std::string expected;
  for (const auto& v : values) expected += (expected.empty() ? "'" : ", '") + v + "'";
  fail(where, "unknown " + column + " value '" + raw + "' (expected one of " + expected + ")");
}

void IdChecker::add(const std::string& id, const Where& where) {
  auto [it, inserted] = first_line_.try_emplace(id, where.line);
  if (!inserted) fail(where, "duplicate id '" + id + "' (first at line " + std::to_string(it->second) + ")");
}

bool has_extension(const std::filesystem::path& p, const char* ext) { return p.extension() == ext; }

Scores label_scores(const std::vector<std::string>& names, const std::vector<int>& truth, const std::vector<int>& predicted) {
  Scores out;
  double sum = 0;
  int parts = 0;
  bool combined = false;
  for (const auto& n : names) {
    double v;
    if (n == "accuracy") v = metrics::accuracy(truth, predicted);
    else if (n == "f1") v = metrics::binary_f1(truth, predicted);
    else if (n == "mcc") v = metrics::matthews_corrcoef(truth, predicted);
    else if (n == "macro_f1") v = metrics::macro_f1(truth, predicted);
    else if (n == "combined") {
      combined = true;
      continue;
    } else {
      throw DataError("internal: no label metric named '" + n + "'");
    }
    out.emplace_back(n, 100.0 * v);
    sum += 100.0 * v;
    ++parts;
  }
  if (combined) out.insert(out.begin(), {"combined", parts ? sum / parts : 0.0});
  return out;
}

void require_labelled(const std::vector<Example>& examples) {
  for (const auto& e : examples)
    if (!e.labelled()) throw DataError("example '" + e.id + "' has no label: this split cannot be scored");
}

std::function<Scores(const std::vector<Example>&, const std::vector<Prediction>&)> label_scorer(const TaskInfo& info) {
  return [info](const std::vector<Example>& examples, const std::vector<Prediction>& predictions) {
    require_labelled(examples);
    std::vector<int> truth, predicted;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      truth.push_back(examples[i].label);
      predicted.push_back(resolve_label(info, examples[i], predictions.at(i)));
    }
    return label_scores(info.metrics, truth, predicted);
  };
}

double prediction_number(const Prediction& p) {
  if (p.value) return *p.value;
  if (p.text) {
    const std::string t = text::strip(*p.text);
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (!t.empty() && end == t.c_str() + t.size() && std::isfinite(v)) return v;
  }
  throw DataError("prediction for id '" + p.id + "' is not a number");
}

std::string prediction_text(const Prediction& p) {
  if (p.text) return *p.text;
  if (p.label) return std::to_string(*p.label);
  if (p.value) return std::to_string(*p.value);
  return "";
}

std::size_t count_jsonl(const std::filesystem::path& p) { return read_jsonl(p).size(); }
std::size_t count_json_list(const std::filesystem::path& p) { return read_json_list(p).size(); }

std::string slice_code_points(const std::string& s, long long begin, long long end, const Where& where,
                              const std::string& what) {
  const std::u32string cps = text::decode(s);
  if (begin < 0 || end < begin || end > static_cast<long long>(cps.size()))
    fail(where, what + " offsets [" + std::to_string(begin) + ", " + std::to_string(end) + ") are outside the text (" +
                    std::to_string(cps.size()) + " characters)");
  return text::encode(std::u32string_view(cps).substr(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)));
}

}  // namespace petlab::tasks::family

namespace petlab::tasks::family {
std::string render(const std::string& pattern, const std::vector<std::string>& texts) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && i + 2 < pattern.size() && pattern[i + 2] == '}' && pattern[i + 1] >= '0' && pattern[i + 1] <= '9') {
      const auto k = static_cast<std::size_t>(pattern[i + 1] - '0');
      if (k < texts.size()) out += texts[k];
      i += 2;
    } else {
      out.push_back(pattern[i]);
    }
  }
  return out;
}
}  // namespace petlab::tasks::family
