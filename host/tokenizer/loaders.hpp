// Building a Pipeline from the files of an HF model folder. tokenizer_json.cpp reads tokenizer.json;
// legacy_files.cpp reproduces what transformers' converters build from vocab.txt (BERT), vocab.json +
// merges.txt (RoBERTa) and spiece.model (T5); load.cpp picks one and applies tokenizer_config.json.
#pragma once

#include "tokenizer/pipeline.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace petlab::tok {

/// What the folder's tokenizer_config.json and config.json say about the tokenizer.
struct FolderConfig {
  std::filesystem::path dir;
  nlohmann::json tokenizer_config = nlohmann::json::object();  ///< {} when the file is absent
  std::string model_type;       ///< config.json's model_type, "" when absent
  std::string tokenizer_class;  ///< tokenizer_config.json's tokenizer_class, "" when absent

  /// Whether the tokenizer belongs to a family: tokenizer_class ("BertTokenizer", ...) or model_type says so.
  bool is_family(std::string_view family) const;
  /// tokenizer_config.json's `key` as a bool, or `fallback` when absent or null.
  bool flag(const std::string& key, bool fallback) const;
  /// tokenizer_config.json's `<role>_token` (a string or {"content": ...}); unset when absent, "" when null.
  std::optional<std::string> token(const std::string& role) const;
};

Pipeline pipeline_from_tokenizer_json(const FolderConfig& folder, const std::filesystem::path& file);
Pipeline pipeline_from_vocab_txt(const FolderConfig& folder);
Pipeline pipeline_from_vocab_merges(const FolderConfig& folder);
Pipeline pipeline_from_spiece_model(const FolderConfig& folder);

/// Reads a JSON file; throws petlab::Error naming it when it cannot be read or parsed.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace petlab::tok
