#include "support/run.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace petlab::testing {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

RunResult run(const std::string& command) {
  const auto err_file = std::filesystem::temp_directory_path() / ("petlab-test-stderr-" + std::to_string(getpid()));
  FILE* pipe = popen((command + " 2>" + shell_quote(err_file.string())).c_str(), "r");
  if (pipe == nullptr) return {-1, "", "popen failed"};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  std::stringstream err;
  err << std::ifstream(err_file).rdbuf();
  std::filesystem::remove(err_file);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, err.str()};
}

}  // namespace petlab::testing
