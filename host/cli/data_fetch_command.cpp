// `petlab data fetch TASK --to DIR [--url URL] [--sha256 HEX]`: downloads the task's official distribution,
// checks its SHA-256 and unpacks it so that `--data DIR` reads it.
#include "cli/commands.hpp"
#include "cli/fetch.hpp"
#include "cli/sha256.hpp"

#include <core/error.hpp>
#include <petlab/tasks/registry.hpp>

#include <cctype>
#include <cstring>
#include <iostream>

namespace petlab::cli {

namespace {
struct FetchOptions {
  std::string task, to, url, sha256;
};

bool is_archive(const std::string& url) {
  for (const char* ext : {".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z"})
    if (url.size() >= std::strlen(ext) && url.compare(url.size() - std::strlen(ext), std::string::npos, ext) == 0) return true;
  return false;
}

std::string lower_hex(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

void add_data_fetch_command(CLI::App& data) {
  auto* cmd = data.add_subcommand("fetch", "Download and unpack a task's official distribution (checksum verified)");
  auto o = std::make_shared<FetchOptions>();
  cmd->add_option("task", o->task, "Task id (see `petlab tasks`)")->required();
  cmd->add_option("--to", o->to, "Directory to unpack into (created if needed)")->required();
  cmd->add_option("--url", o->url, "Download from this URL instead (a mirror of the same archive)");
  cmd->add_option("--sha256", o->sha256, "Expected SHA-256 of the download (overrides the pinned digest)");
  cmd->callback([o] {
    tasks::TaskRegistry::builtin().get(o->task);  // fails listing the known ids
    std::vector<Download> downloads;
    if (!o->url.empty()) {
      downloads.push_back({o->url, "", ""});
      if (!is_archive(o->url)) downloads.back().file_name = std::filesystem::path(o->url).filename().string();
    } else {
      downloads = official_downloads(o->task);
    }
    if (!o->sha256.empty() && downloads.size() != 1)
      throw Error("--sha256 names one digest but " + o->task + " has " + std::to_string(downloads.size()) +
                  " downloads; use --url with --sha256 for each");
    std::filesystem::create_directories(o->to);
    for (auto& d : downloads) {
      const std::string expected = lower_hex(o->sha256.empty() ? d.sha256 : o->sha256);
      const auto part = std::filesystem::path(o->to) / ".petlab-download.part";
      std::cerr << "downloading " << d.url << "\n";
      download(d.url, part);
      const std::string actual = sha256_file(part);
      if (expected.empty()) {
        std::filesystem::remove(part);
        throw Error("no SHA-256 is pinned for " + d.url + ": after checking the file, pass --sha256 " + actual);
      }
      if (actual != expected) {
        std::filesystem::remove(part);
        throw Error("checksum mismatch for " + d.url + ": expected sha256 " + expected + ", got " + actual +
                    " (nothing was unpacked)");
      }
      if (d.file_name.empty() && is_archive(d.url)) {
        const auto files = unpack(part, o->to);
        std::filesystem::remove(part);
        std::cout << "unpacked " << files.size() << " files from " << d.url << " into " << o->to << "\n";
      } else {
        const auto target = std::filesystem::path(o->to) / d.file_name;
        std::filesystem::rename(part, target);
        std::cout << "saved " << d.url << " as " << target.string() << "\n";
      }
    }
  });
}

}  // namespace petlab::cli
