// Loading plugin files: good ones register their methods, bad ones are refused with their own reason.
#include "core/error.hpp"
#include "model/surface.hpp"
#include "plugin/registry.hpp"

#include <doctest/doctest.h>
#include <petlab/abi.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using petlab::Error;
using petlab::MethodRegistry;
using petlab::PluginLibrary;

namespace {
const fs::path kProbe = fs::path(PETLAB_TEST_PLUGIN_DIR) / "petlab-test_probe.so";
fs::path bad(const std::string& name) { return fs::path(PETLAB_TEST_BAD_PLUGIN_DIR) / ("petlab-bad_" + name + ".so"); }

std::string refusal(const fs::path& file) {
  try {
    PluginLibrary::load(file);
  } catch (const Error& e) {
    return e.what();
  }
  return "(loaded)";
}

fs::path scratch(const std::string& name) {
  auto dir = fs::temp_directory_path() / "petlab-plugin-tests";
  fs::create_directories(dir);
  return dir / name;
}
}  // namespace

TEST_CASE("the probe plugin loads with both of its methods") {
  auto lib = PluginLibrary::load(kProbe);
  REQUIRE(lib->methods().size() == 2);
  CHECK(std::string(lib->methods()[0]->id) == "probe");
  CHECK(std::string(lib->methods()[1]->id) == "scale");
  CHECK((lib->methods()[0]->merge == nullptr));
  CHECK((lib->methods()[1]->merge != nullptr));
  CHECK(std::string(lib->entry().build_id) == petlab::host_build_id());
  CHECK(std::string(lib->methods()[0]->knobs[1].default_json) == "0.5");
}

TEST_CASE("a plugin for another ABI major is refused naming both versions and the file") {
  const auto msg = refusal(bad("wrong_major"));
  CHECK(msg.find("ABI 99.0") != std::string::npos);
  const auto host_version = "this host speaks ABI " + std::to_string(PETLAB_ABI_MAJOR) + "." +
                            std::to_string(PETLAB_ABI_MINOR);
  CHECK(msg.find(host_version) != std::string::npos);
  CHECK(msg.find("petlab-bad_wrong_major.so") != std::string::npos);
}

TEST_CASE("a plugin built against another LibTorch is refused naming both build ids") {
  const auto msg = refusal(bad("wrong_build_id"));
  CHECK(msg.find("'torch=1.13.1;cxx11abi=0;compiler=gcc'") != std::string::npos);
  CHECK(msg.find(std::string("'") + petlab::host_build_id() + "'") != std::string::npos);
}

TEST_CASE("a shared library without petlab_entry is refused") {
  CHECK(refusal(bad("no_entry")).find("exports no 'petlab_entry' symbol") != std::string::npos);
}

TEST_CASE("a file that is not a shared library is refused") {
  const auto file = scratch("not-a-library.so");
  std::ofstream(file) << "this is text, not ELF\n";
  const auto msg = refusal(file);
  CHECK(msg.find("cannot be loaded as a shared library") != std::string::npos);
  CHECK(msg.find(file.string()) != std::string::npos);
}

TEST_CASE("a truncated plugin is refused, not crashed on") {
  const auto file = scratch("truncated.so");
  fs::copy_file(kProbe, file, fs::copy_options::overwrite_existing);
  fs::resize_file(file, fs::file_size(kProbe) / 3);
  const auto msg = refusal(file);
  CAPTURE(msg);
  CHECK(msg.find("cannot be loaded as a shared library") != std::string::npos);
}

TEST_CASE("a missing file is refused") {
  CHECK(refusal("/nonexistent/petlab-nothing.so").find("no such file") != std::string::npos);
}

TEST_CASE("a create that throws comes back as an error with the plugin's message") {
  MethodRegistry registry;
  registry.load_file(bad("throwing_create"));
  CHECK_THROWS_WITH_AS(registry.create("throws", nullptr),
                       doctest::Contains("method 'throws'"), Error);
  CHECK_THROWS_WITH_AS(registry.create("throws", nullptr), doctest::Contains("constructor exploded on purpose"),
                       Error);
}

TEST_CASE("an unknown knob is refused before the plugin runs, listing valid knobs") {
  MethodRegistry registry;
  registry.load_file(kProbe);
  CHECK_THROWS_WITH_AS(registry.create("probe", {{"bogus", 1}}),
                       "method 'probe' has no knob 'bogus'; valid knobs: site, init", Error);
  CHECK_THROWS_WITH_AS(registry.create("probe", {{"init", "high"}}),
                       "method 'probe': knob 'init' expects float, got \"high\"", Error);
}

TEST_CASE("an unknown method id lists the loaded methods") {
  MethodRegistry registry;
  registry.load_file(kProbe);
  CHECK_THROWS_WITH_AS(registry.create("lora", nullptr), "unknown method 'lora'; loaded methods: probe, scale", Error);
}

TEST_CASE("scanning directories records bad files and keeps the good ones") {
  MethodRegistry registry;
  registry.load_directories({PETLAB_TEST_PLUGIN_DIR, PETLAB_TEST_BAD_PLUGIN_DIR});
  CHECK(registry.find("probe") != nullptr);
  CHECK(registry.find("throws") != nullptr);  // it loads; only creating it fails
  CHECK(registry.failures().size() == 3);     // wrong_major, wrong_build_id, no_entry
}

TEST_CASE("a duplicate method id: the earlier plugin path wins") {
  MethodRegistry registry;
  registry.load_directories({PETLAB_TEST_DUP_PLUGIN_DIR, PETLAB_TEST_PLUGIN_DIR});
  const auto* probe = registry.find("probe");
  REQUIRE(probe != nullptr);
  CHECK(std::string(probe->library->entry().plugin_name) == "petlab-test-probe-dup");
  CHECK(registry.methods().size() == 2);
}

TEST_CASE("explicit plugin paths come before PETLAB_PLUGIN_PATH and the built-in directory") {
  setenv("PETLAB_PLUGIN_PATH", "/env/a:/env/b", 1);
  const auto dirs = petlab::plugin_search_path({"/cli"});
  unsetenv("PETLAB_PLUGIN_PATH");
  REQUIRE(dirs.size() == 4);
  CHECK(dirs[0] == "/cli");
  CHECK(dirs[1] == "/env/a");
  CHECK(dirs[2] == "/env/b");
  CHECK(dirs[3].filename() == "plugins");
}
