#include "study/runner.hpp"

#include "core/error.hpp"
#include "study/files.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <thread>

namespace petlab {
namespace fs = std::filesystem;
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted = true; }

struct PendingRun {
  const Cell* cell;
  uint64_t seed;
  fs::path dir;
};

struct ActiveRun {
  PendingRun run;
  int lock_fd;
};

/// Holds the run's lock file open for as long as a worker works in it: two runners pointed at the same
/// study (a resumed run beside a still-running one, overlapping shards) never run the same cell twice.
int try_lock(const fs::path& dir) {
  const int fd = ::open((dir / "run.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("{}: cannot create run.lock", dir.string()));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string tail_of(const fs::path& file, size_t max_bytes = 2000) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  const size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string text(size - start, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

pid_t launch(const PendingRun& run, const RunnerOptions& options, int threads) {
  const fs::path spec = run.dir / "spec.json";
  const fs::path log = run.dir / "log.txt";
  std::vector<std::string> args{options.executable.string()};
  args.insert(args.end(), options.worker_args.begin(), options.worker_args.end());
  args.push_back("run-cell");
  args.push_back(spec.string());
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("fork failed: cannot start a worker");
  if (pid == 0) {
    // The worker: dies with the runner, writes its output to log.txt, knows its thread budget.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::setenv("PETLAB_WORKER_THREADS", std::to_string(threads).c_str(), 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "cannot execute %s\n", argv[0]);
    ::_exit(127);
  }
  return pid;
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return fmt::format("the worker was killed by signal {} ({}){}", sig, strsignal(sig),
                       sig == SIGKILL ? "; out of memory? (the kernel's OOM killer sends SIGKILL)" : "");
  }
  return fmt::format("the worker exited with code {} without writing result.json", WEXITSTATUS(status));
}

class Progress {
 public:
  Progress(size_t total, bool enabled) : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
  void update(size_t done, size_t failed, size_t running) {
    if (!enabled_ || total_ == 0) return;
    const double elapsed = seconds();
    const int width = 30;
    const int filled = static_cast<int>(width * done / total_);
    std::string eta = "--";
    if (done > 0 && done < total_) eta = format_duration(elapsed / static_cast<double>(done) * static_cast<double>(total_ - done));
    std::fprintf(stderr, "\r[%s%s] %zu/%zu runs, %zu running, %zu failed, %s elapsed, ETA %s   ",
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done, total_, running, failed,
                 format_duration(elapsed).c_str(), eta.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_ && total_ > 0) std::fprintf(stderr, "\n");
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  static std::string format_duration(double s) {
    const auto total = static_cast<int64_t>(s);
    if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, total % 3600 / 60);
    if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
    return fmt::format("{}s", total);
  }
  size_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

fs::path run_directory(const Plan& plan, const Cell& cell, uint64_t seed) {
  return plan.output / cell.id / fmt::format("seed-{}", seed);
}

nlohmann::json run_spec(const Plan& plan, const Cell& cell, uint64_t seed) {
  nlohmann::json spec = cell.settings();
  spec["study"] = plan.study;
  spec["seed"] = seed;
  // Chen et al. separate weight initialisation from data order; a run's seed sets both by default.
  spec["init_seed"] = seed;
  spec["data_seed"] = seed;
  spec["run_dir"] = run_directory(plan, cell, seed).string();
  return spec;
}

RunnerSummary run_plan(const Plan& plan, const RunnerOptions& options) {
  if (options.workers < 1) throw Error("--workers must be at least 1");
  if (options.shard_count < 1 || options.shard_index < 0 || options.shard_index >= options.shard_count)
    throw Error(fmt::format("--shard {}/{}: expected I/N with 0 <= I < N", options.shard_index, options.shard_count));
  fs::create_directories(plan.output);
  nlohmann::json cells = nlohmann::json::array();
  for (const Cell& c : plan.cells) {
    cells.push_back(c.settings());
    cells.back()["seeds"] = c.seeds;  // the report lists runs not started yet
  }
  write_json_atomically(plan.output / "plan.json", {{"study", plan.study}, {"cells", cells}});

  RunnerSummary summary;
  std::deque<PendingRun> pending;
  size_t index = 0;
  for (const Cell& cell : plan.cells)
    for (uint64_t seed : cell.seeds) {
      if (index++ % static_cast<size_t>(options.shard_count) != static_cast<size_t>(options.shard_index)) continue;
      ++summary.in_shard;
      const fs::path dir = run_directory(plan, cell, seed);
      if (fs::exists(dir / "result.json")) ++summary.already_done;
      else pending.push_back({&cell, seed, dir});
    }

  g_interrupted = false;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);

  const int cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = std::max(1, cores / options.workers);
  std::map<pid_t, ActiveRun> active;
  Progress progress(summary.in_shard, options.progress);
  size_t done = summary.already_done;
  progress.update(done, 0, 0);
  bool signalled_workers = false;

  while (!pending.empty() || !active.empty()) {
    while (!g_interrupted && !pending.empty() && static_cast<int>(active.size()) < options.workers) {
      PendingRun run = pending.front();
      pending.pop_front();
      fs::create_directories(run.dir);
      const int lock = try_lock(run.dir);
      if (lock < 0 || fs::exists(run.dir / "result.json")) {  // another runner has it, or just finished it
        if (lock >= 0) ::close(lock);
        ++summary.busy_elsewhere;
        continue;
      }
      fs::remove(run.dir / "curve.jsonl");  // a resumed run starts over: no stale curve points
      write_json_atomically(run.dir / "spec.json", run_spec(plan, *run.cell, run.seed));
      active.emplace(launch(run, options, threads), ActiveRun{run, lock});
      progress.update(done, summary.failed, active.size());
    }
    if (active.empty()) break;
    if (g_interrupted && !signalled_workers) {
      for (const auto& [pid, run] : active) ::kill(pid, SIGINT);
      signalled_workers = true;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) continue;  // EINTR: look at the interrupt flag again
    auto it = active.find(pid);
    if (it == active.end()) continue;
    const PendingRun run = it->second.run;
    const fs::path result = run.dir / "result.json";
    if (fs::exists(result)) {
      const std::string state = read_json_file(result).value("status", "failed");
      if (state == "finished") ++summary.finished;
      else if (state == "diverged") ++summary.diverged;
      else ++summary.failed;
      ++done;
    } else if (!g_interrupted) {
      // The worker died without a word (crash, OOM kill): record it so the study moves on.
      nlohmann::json spec = run_spec(plan, *run.cell, run.seed);
      write_json_atomically(result, {{"study", plan.study},
                                     {"cell", run.cell->id},
                                     {"seed", run.seed},
                                     {"task", run.cell->task},
                                     {"method", run.cell->methods.front().id},
                                     {"method_label", run.cell->method_label},
                                     {"train_size", spec["train_size"]},
                                     {"protocol", run.cell->protocol},
                                     {"status", "failed"},
                                     {"error", describe_exit(status) + "\n" + tail_of(run.dir / "log.txt")}});
      ++summary.failed;
      ++done;
    }
    ::close(it->second.lock_fd);
    active.erase(it);
    progress.update(done, summary.failed, active.size());
  }
  progress.finish();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  summary.interrupted = g_interrupted;
  return summary;
}

}  // namespace petlab
