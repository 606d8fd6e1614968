// Downloading and unpacking a task's official distribution for `petlab data fetch`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace petlab::cli {

/// One download of a task's distribution: an archive (unpacked, its single top folder dropped) or a
/// plain data file (kept under `file_name`).
struct Download {
  std::string url;
  std::string sha256;     ///< pinned digest; empty = not pinned in this build (then --sha256 is required)
  std::string file_name;  ///< for plain files: the name the task's reader expects; empty for archives
};

/// The official downloads of a task id; fails for an unknown id.
std::vector<Download> official_downloads(const std::string& task_id);

/// Fetches `url` to `destination` with libcurl (redirects followed, stalls and HTTP errors fail).
void download(const std::string& url, const std::filesystem::path& destination);

/// Unpacks an archive (zip, tar.*, 7z: whatever libarchive reads) into `dir`; when every entry sits in one
/// top-level folder that folder is dropped. Refuses absolute paths and "..". Returns the files written.
std::vector<std::filesystem::path> unpack(const std::filesystem::path& archive, const std::filesystem::path& dir);

}  // namespace petlab::cli
