// `petlab study`: bad study files are refused with file:line and key; a small study on the tiny BERT runs
// end to end; the same seeds give identical metrics; a study killed with SIGKILL twice resumes to the same
// results as an uninterrupted one, never re-running a finished run.
#include "support/run.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using petlab::testing::run;
using petlab::testing::shell_quote;

namespace {
const fs::path kModel = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models" / "bert" / "model";
const fs::path kData = fs::path(PETLAB_SOURCE_DIR) / "configs" / "data" / "sentiment";

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "petlab-study-tests" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string petlab_command(const std::string& args) {
  return shell_quote(PETLAB_BINARY) + " --plugin-path " + shell_quote(PETLAB_PLUGIN_BUILD_DIR) + " " + args;
}

/// A study file in `dir` with the given body after a standard header (tiny BERT, the sentiment data).
fs::path write_study(const fs::path& dir, const std::string& body, const std::string& header_extra = "") {
  const fs::path file = dir / "study.toml";
  std::ofstream(file) << "[study]\nname = \"t\"\noutput = \"runs\"\nseeds = 2\n" << header_extra
                      << "[backbone]\nmodel = \"" << kModel.string() << "\"\nmax_length = 32\n"
                      << "[train]\nmax_steps = 6\nbatch_size = 8\neval_every = 3\nlearning_rate = 1e-3\n"
                      << "[[tasks]]\nid = \"glue/sst2\"\ndata = \"" << kData.string() << "\"\ntrain_size = 64\n"
                      << body;
  return file;
}

const std::string kMethods = "[[methods]]\nid = \"bitfit\"\n[[methods]]\nid = \"full\"\n";

std::string plan_error(const std::string& body, const std::string& header_extra = "") {
  // CTest runs the test cases as parallel processes: each needs a folder of its own.
  static int calls = 0;
  const fs::path dir = scratch("bad-" + std::to_string(::getpid()) + "-" + std::to_string(++calls));
  const auto r = run(petlab_command("study plan " + shell_quote(write_study(dir, body, header_extra).string())));
  CHECK(r.exit_code != 0);
  return r.err;
}

/// test metrics of every run under `root`: "<cell>/seed-k" -> result.json's "test".
std::map<std::string, nlohmann::json> test_metrics(const fs::path& root) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.path().filename() == "result.json") {
      const auto j = nlohmann::json::parse(std::ifstream(entry.path()));
      out[fs::relative(entry.path().parent_path(), root).string()] = {j["status"], j["test"], j["best_dev"], j["steps"]};
    }
  return out;
}
}  // namespace

TEST_CASE("study files: a syntax error names the line and column") {
  CHECK(doctest::String(plan_error("[[methods]]\nid = \"bitfit\n").c_str()) == doctest::Contains("study.toml:"));
  CHECK(doctest::String(plan_error("[[methods]]\nid = \"bitfit\n").c_str()) == doctest::Contains("TOML syntax error"));
}

TEST_CASE("study files: an unknown key is refused with the nearest valid one") {
  const std::string err = plan_error(kMethods + "[[methods]]\nidd = \"lora\"\n");
  CHECK(doctest::String(err.c_str()) == doctest::Contains("methods[2].idd: unknown key (did you mean 'id'?)"));
}

TEST_CASE("study files: a wrong type names the key and what was expected") {
  const std::string err = plan_error(kMethods, "protocol = 3\n");
  CHECK(doctest::String(err.c_str()) == doctest::Contains("study.protocol: expected \"fair\" or \"legacy\""));
  const std::string knob = plan_error("[[methods]]\nid = \"bitfit\"\nknobs = { which = 3 }\n");
  CHECK(doctest::String(knob.c_str()) == doctest::Contains("knobs.which: method 'bitfit' expects string"));
}

TEST_CASE("study files: unknown methods, knobs and tasks are named with a suggestion") {
  CHECK(doctest::String(plan_error("[[methods]]\nid = \"bitfitt\"\n").c_str()) ==
        doctest::Contains("unknown method 'bitfitt' (did you mean 'bitfit'?)"));
  CHECK(doctest::String(plan_error("[[methods]]\nid = \"bitfit\"\nknobs = { whihc = \"all\" }\n").c_str()) ==
        doctest::Contains("method 'bitfit' has no knob 'whihc' (did you mean 'which'?)"));
  const fs::path dir = scratch("task");
  const fs::path file = dir / "study.toml";
  std::ofstream(file) << "[study]\nname = \"t\"\n[backbone]\nmodel = \"" << kModel.string()
                      << "\"\n[[tasks]]\nid = \"glue/sst3\"\ndata = \"" << kData.string() << "\"\n" << kMethods;
  const auto r = run(petlab_command("study plan " + shell_quote(file.string())));
  CHECK(doctest::String(r.err.c_str()) == doctest::Contains("unknown task 'glue/sst3' (did you mean 'glue/sst2'?)"));
}

TEST_CASE("study files: a missing model or data folder is named") {
  const fs::path dir = scratch("folders");
  const fs::path file = dir / "study.toml";
  std::ofstream(file) << "[study]\nname = \"t\"\n[backbone]\nmodel = \"no-such-model\"\n[[tasks]]\nid = \"glue/sst2\"\n"
                      << "data = \"no-such-data\"\n" << kMethods;
  const auto r = run(petlab_command("study plan " + shell_quote(file.string())));
  CHECK(doctest::String(r.err.c_str()) == doctest::Contains("backbone.model: "));
  CHECK(doctest::String(r.err.c_str()) == doctest::Contains("is not a Hugging Face model folder"));
}

TEST_CASE("study files: [paths].include sets model and data paths for a folder of studies in one place") {
  const fs::path dir = scratch("include");
  fs::create_directories(dir / "studies");
  std::ofstream(dir / "paths.toml") << "[paths]\nmodel = \"" << kModel.string() << "\"\ndata = \"" << kData.string() << "\"\n";
  const auto study = [&](const std::string& include) {
    const fs::path file = dir / "studies" / "study.toml";
    std::ofstream(file) << "[study]\nname = \"t\"\n[paths]\ninclude = \"" << include << "\"\n"
                        << "[backbone]\nmodel = \"${model}\"\n[[tasks]]\nid = \"glue/sst2\"\ndata = \"${data}\"\n" << kMethods;
    return run(petlab_command("study plan " + shell_quote(file.string())));
  };
  const auto ok = study("../paths.toml");
  CHECK(ok.exit_code == 0);
  CHECK(doctest::String(ok.out.c_str()) == doctest::Contains("bitfit"));
  const auto missing = study("../no-paths.toml");
  CHECK(missing.exit_code != 0);
  CHECK(doctest::String(missing.err.c_str()) == doctest::Contains("paths.include: no such file"));
}

TEST_CASE("study files: an empty grid is refused") {
  CHECK(doctest::String(plan_error("").c_str()) == doctest::Contains("the grid is empty: add at least one [[methods]]"));
  CHECK(doctest::String(plan_error(kMethods, "protocol = []\n").c_str()) == doctest::Contains("the protocol list is empty"));
}

TEST_CASE("study plan --check: every study shipped in configs/ plans and attaches, with tiny models in paths.toml") {
  // The paper studies name their models and data through configs/paths.toml: a copy of configs/ whose
  // paths.toml points at the tiny fixtures and at empty data folders checks every cell of every study.
  const fs::path dir = scratch("configs");
  const fs::path configs = dir / "configs", tiny = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";
  fs::copy(fs::path(PETLAB_SOURCE_DIR) / "configs", configs, fs::copy_options::recursive);
  std::ofstream(configs / "paths.toml") << "[paths]\nminilm = \"" << (tiny / "minilm" / "model").string() << "\"\n"
                                        << "roberta = \"" << (tiny / "roberta" / "model").string() << "\"\n"
                                        << "flan_t5 = \"" << (tiny / "t5-v1_1" / "model").string() << "\"\n"
                                        << "t5 = \"" << (tiny / "t5-v1_0" / "model").string() << "\"\n"
                                        << "data = \"" << (dir / "data").string() << "\"\nruns = \"runs\"\n";
  const std::regex data_folder(R"(\$\{data\}/([^"]+))");
  std::vector<fs::path> studies;
  for (const auto& entry : fs::recursive_directory_iterator(configs)) {
    if (entry.path().extension() != ".toml" || entry.path().filename() == "paths.toml") continue;
    studies.push_back(entry.path());
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::sregex_iterator m(text.begin(), text.end(), data_folder), end; m != end; ++m)
      fs::create_directories(dir / "data" / (*m)[1].str());
  }
  REQUIRE(studies.size() >= 10);
  for (const fs::path& study : studies) {
    INFO(study.string());
    const auto r = run("PETLAB_MINILM=" + shell_quote((tiny / "minilm" / "model").string()) + " " +
                       petlab_command("study plan --check " + shell_quote(study.string())));
    CHECK(r.exit_code == 0);
    CHECK(doctest::String(r.out.c_str()) == doctest::Contains("cells attach"));
    CHECK(r.err == "");
  }
}

TEST_CASE("study plan --check names the cell whose methods do not attach, and why") {
  const fs::path dir = scratch("check");
  const auto r = run(petlab_command("study plan --check " +
                                    shell_quote(write_study(dir, "[[methods]]\nid = \"lora\"\nknobs = { targets = [\"attn.qq\"] }\n" + kMethods).string())));
  CHECK(r.exit_code != 0);
  CHECK(doctest::String(r.out.c_str()) == doctest::Contains("FAIL sst2-lora-n64-fair-"));
  CHECK(doctest::String(r.out.c_str()) == doctest::Contains("no site matches [attn.qq]"));
  CHECK(doctest::String(r.out.c_str()) == doctest::Contains("ok   sst2-bitfit-n64-fair-"));
  CHECK(doctest::String(r.err.c_str()) == doctest::Contains("1 of 3 cells do not attach"));
}

TEST_CASE("study plan: list-valued knobs and [train] values become sweep axes with stable cell ids") {
  const fs::path dir = scratch("plan");
  const fs::path file =
      write_study(dir, "[[methods]]\nid = \"bitfit\"\nknobs = { which = [\"all\", \"ffn\"] }\ntrain = { learning_rate = [1e-3, 1e-4] }\n");
  const auto a = run(petlab_command("study plan --json " + shell_quote(file.string())));
  REQUIRE(a.exit_code == 0);
  const auto plan = nlohmann::json::parse(a.out);
  REQUIRE(plan["cells"].size() == 4);
  CHECK(plan["cells"][0]["method_label"] == "bitfit which=all learning_rate=0.001");
  const auto b = run(petlab_command("study plan --json " + shell_quote(file.string())));
  CHECK(a.out == b.out);
}

TEST_CASE("study run: the same seeds give identical results, and a killed study resumes to the same results") {
  const fs::path dir = scratch("run");
  const fs::path file = write_study(dir, kMethods);
  const auto first = run(petlab_command("study run --no-progress " + shell_quote(file.string())));
  REQUIRE_MESSAGE(first.exit_code == 0, first.out << first.err);
  const auto reference = test_metrics(dir / "runs" / "t");
  REQUIRE(reference.size() == 4);
  for (const auto& [run_dir, r] : reference) {
    CAPTURE(run_dir);
    CHECK(r[0] == "finished");
    CHECK(r[1]["accuracy"].is_number());
  }

  // A second, uninterrupted run of a copy gives the same metrics (same seeds, CPU).
  const fs::path again = scratch("run-again");
  const fs::path file2 = write_study(again, kMethods);
  REQUIRE(run(petlab_command("study run --no-progress " + shell_quote(file2.string()))).exit_code == 0);
  CHECK(test_metrics(again / "runs" / "t") == reference);

  // Kill the runner with SIGKILL twice at different points, then resume.
  const fs::path killed = scratch("run-killed");
  const fs::path file3 = write_study(killed, kMethods);
  for (int delay_ms : {1500, 4000}) {
    const pid_t pid = fork();
    if (pid == 0) {  // the runner itself, no shell in between, so SIGKILL hits it
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      execl(PETLAB_BINARY, PETLAB_BINARY, "--plugin-path", PETLAB_PLUGIN_BUILD_DIR, "study", "run", "--no-progress",
            file3.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);  // its workers die with it (PR_SET_PDEATHSIG)
    waitpid(pid, nullptr, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const auto before = test_metrics(killed / "runs" / "t");
  const auto resumed = run(petlab_command("study run --no-progress " + shell_quote(file3.string())));
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.out << resumed.err);
  CHECK(doctest::String(resumed.out.c_str()) == doctest::Contains((std::to_string(before.size()) + " already done").c_str()));
  CHECK(test_metrics(killed / "runs" / "t") == reference);
  for (const auto& entry : fs::recursive_directory_iterator(killed / "runs"))
    CHECK_MESSAGE(entry.path().extension() != ".tmp", "half-written file left: " << entry.path());
}
