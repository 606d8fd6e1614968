#include "train/encoded_dataset.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>

namespace petlab::train {

namespace {

std::string join(const std::vector<std::string>& parts, size_t from) {
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) {
    if (!out.empty() && !parts[i].empty()) out += ' ';
    out += parts[i];
  }
  return out;
}

std::string replace_placeholder(std::string query, const std::string& candidate) {
  static const std::string kPlaceholder = "@placeholder";
  const size_t at = query.find(kPlaceholder);
  if (at == std::string::npos) return query + " " + candidate;  // no marker: the candidate goes last
  return query.replace(at, kPlaceholder.size(), candidate);
}

int64_t longest(const std::vector<tok::Encoding>& rows) {
  size_t n = 0;
  for (const auto& r : rows) n = std::max(n, r.ids.size());
  return static_cast<int64_t>(n);
}

EncodedExample encode_text_to_text(const tasks::Task& task, const tasks::Example& e, const tok::Tokenizer& tokenizer,
                                   const EncodeOptions& o) {
  const tasks::TextToText t = task.to_text(e);
  EncodedExample out;
  out.rows.push_back(tokenizer.encode(t.source, std::nullopt, o.max_length));
  if (e.labelled()) out.target_ids = tokenizer.encode(t.target, std::nullopt, o.max_target_length).ids;
  out.label = e.label;
  out.target = e.target;
  out.length = std::max<int64_t>(longest(out.rows), static_cast<int64_t>(out.target_ids.size()));
  return out;
}

EncodedExample encode_for_encoder(const tasks::Task& task, const tasks::Example& e, const tok::Tokenizer& tokenizer,
                                  const EncodeOptions& o) {
  using tasks::Format;
  if (e.texts.empty()) throw Error("the example has no text");
  EncodedExample out;
  out.label = e.label;
  out.target = e.target;
  const std::string& first = e.texts[0];
  switch (task.info.format) {
    case Format::classification:
    case Format::regression:
    case Format::span_pair: {
      std::string second = join(e.texts, 1);
      if (e.texts.size() == 1 && task.info.format == Format::span_pair) {
        std::vector<std::string> spans;
        for (const auto& s : e.spans) spans.push_back(s.text);
        second = join(spans, 0);
      }
      out.rows.push_back(e.texts.size() > 1 || !second.empty() ? tokenizer.encode(first, second, o.max_length)
                                                               : tokenizer.encode(first, std::nullopt, o.max_length));
      break;
    }
    case Format::multiple_choice: {
      if (e.choices.empty()) throw Error("a multiple-choice example without choices");
      const std::string context = join(e.texts, 1);
      for (const auto& choice : e.choices)
        out.rows.push_back(tokenizer.encode(first, context.empty() ? choice : context + " " + choice, o.max_length));
      break;
    }
    case Format::candidate_ranking: {
      if (e.choices.empty()) throw Error("a candidate-ranking example without candidates");
      if (e.texts.size() < 2) throw Error("a candidate-ranking example needs a passage and a query");
      out.label = -1;
      for (size_t c = 0; c < e.choices.size(); ++c) {
        out.rows.push_back(tokenizer.encode(first, replace_placeholder(e.texts[1], e.choices[c]), o.max_length));
        if (out.label < 0 && std::find(e.answers.begin(), e.answers.end(), e.choices[c]) != e.answers.end())
          out.label = static_cast<int>(c);
      }
      break;
    }
    case Format::generation:
      throw Error("a generation task needs a text-to-text backbone (T5)");
  }
  out.length = longest(out.rows);
  return out;
}

}  // namespace

std::vector<int64_t> EncodedDataset::lengths() const {
  std::vector<int64_t> out;
  out.reserve(examples.size());
  for (const auto& e : examples) out.push_back(e.length);
  return out;
}

int64_t EncodedDataset::total_tokens() const {
  int64_t n = 0;
  for (const auto& e : examples)
    for (const auto& r : e.rows) n += static_cast<int64_t>(r.ids.size());
  return n;
}

EncodedDataset encode_dataset(const tasks::Task& task, const std::vector<tasks::Example>& examples,
                              const tok::Tokenizer& tokenizer, const EncodeOptions& options) {
  if (options.max_length == 0) throw Error("max_length: expected a positive number of tokens, got 0");
  if (options.text_to_text && options.max_target_length == 0)
    throw Error("max_target_length: expected a positive number of tokens, got 0");
  EncodedDataset out;
  out.format = task.info.format;
  out.text_to_text = options.text_to_text;
  out.pad_id = tokenizer.pad_id();
  out.examples.reserve(examples.size());
  for (const auto& e : examples) {
    try {
      out.examples.push_back(options.text_to_text ? encode_text_to_text(task, e, tokenizer, options)
                                                  : encode_for_encoder(task, e, tokenizer, options));
    } catch (const std::exception& error) {
      throw Error(fmt::format("{}: example '{}': {}", task.info.id, e.id, error.what()));
    }
  }
  return out;
}

}  // namespace petlab::train
