// Writing study files so an interrupted run never leaves a half-written one: write a sibling temporary
// file, flush it to disk, then rename it over the target (rename is atomic within a file system).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace petlab {

/// Writes `text` to `file` atomically (temporary file + fsync + rename).
void write_file_atomically(const std::filesystem::path& file, const std::string& text);
inline void write_json_atomically(const std::filesystem::path& file, const nlohmann::json& value) {
  write_file_atomically(file, value.dump(2) + "\n");
}
/// Reads a JSON file; throws petlab::Error naming the file when it is missing or malformed.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace petlab
