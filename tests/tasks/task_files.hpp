// Fixture files the tasks tests write themselves, byte for byte in the distribution formats.
#pragma once

#include <filesystem>
#include <string>

namespace petlab::testing {

/// A fresh directory under the system temp folder, removed when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Writes `bytes` exactly (no newline translation) to path()/name, creating folders.
  std::filesystem::path write(const std::string& name, const std::string& bytes) const;

 private:
  std::filesystem::path path_;
};

}  // namespace petlab::testing
