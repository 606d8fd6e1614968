// The petlab binary as a user meets it: --version, methods --json, plugins check, and bad input.
#include "support/run.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using petlab::testing::run;
using petlab::testing::shell_quote;

namespace {
const std::string kPetlab = shell_quote(PETLAB_BINARY);
const std::string kTestPlugins = " --plugin-path " + shell_quote(PETLAB_TEST_PLUGIN_DIR);
std::string bad(const std::string& name) {
  return shell_quote((fs::path(PETLAB_TEST_BAD_PLUGIN_DIR) / ("petlab-bad_" + name + ".so")).string());
}
}  // namespace

TEST_CASE("--version prints the version") {
  const auto r = run(kPetlab + " --version");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("0.") == 0);
}

TEST_CASE("methods --json is valid JSON listing the test plugin's methods with their knobs and file") {
  const auto r = run(kPetlab + kTestPlugins + " methods --json");
  REQUIRE(r.exit_code == 0);
  const auto methods = nlohmann::json::parse(r.out);
  REQUIRE(methods.is_array());
  const nlohmann::json* probe = nullptr;
  for (const auto& m : methods)
    if (m["id"] == "probe") probe = &m;
  REQUIRE(probe != nullptr);
  CHECK((*probe)["version"] == "1.0.0");
  CHECK((*probe)["file"].get<std::string>().find("petlab-test_probe.so") != std::string::npos);
  CHECK((*probe)["mergeable"] == false);
  REQUIRE((*probe)["knobs"].size() == 2);
  CHECK((*probe)["knobs"][0]["name"] == "site");
  CHECK((*probe)["knobs"][0]["type"] == "string");
  CHECK((*probe)["knobs"][1]["default"] == 0.5);
}

TEST_CASE("PETLAB_PLUGIN_PATH is searched too") {
  const auto r = run("PETLAB_PLUGIN_PATH=" + shell_quote(PETLAB_TEST_PLUGIN_DIR) + " " + kPetlab + " methods");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("scale 1.0.0") != std::string::npos);
}

TEST_CASE("plugins check prints a good plugin's descriptor") {
  const auto r = run(kPetlab + " plugins check " +
                     shell_quote((fs::path(PETLAB_TEST_PLUGIN_DIR) / "petlab-test_probe.so").string()));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("plugin  petlab-test-probe 1.0.0") != std::string::npos);
  CHECK(r.out.find("methods 2") != std::string::npos);
}

TEST_CASE("plugins check exits non-zero with the reason for each bad plugin") {
  const std::pair<std::string, std::string> cases[] = {
      {"wrong_major", "ABI 99.0"},
      {"wrong_build_id", "torch=1.13.1"},
      {"no_entry", "exports no 'petlab_entry' symbol"},
  };
  for (const auto& [name, reason] : cases) {
    CAPTURE(name);
    const auto r = run(kPetlab + " plugins check " + bad(name));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(reason) != std::string::npos);
  }
  const auto missing = run(kPetlab + " plugins check /nonexistent.so");
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no such file") != std::string::npos);
}

TEST_CASE("bad command lines are usage errors, not crashes") {
  CHECK(run(kPetlab + " --log-level loud methods").err.find("unknown log level 'loud'") != std::string::npos);
  CHECK(run(kPetlab + " frobnicate").exit_code != 0);
  CHECK(run(kPetlab + " plugins check").exit_code != 0);
}
