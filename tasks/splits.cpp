// Protocols: from the official files to the train / dev / test splits of a run (see splits.hpp).
#include "petlab/tasks/splits.hpp"
#include "petlab/tasks/error.hpp"
#include "petlab/tasks/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace petlab::tasks {

Protocol parse_protocol(const std::string& name) {
  if (name == "fair") return Protocol::fair;
  if (name == "legacy") return Protocol::legacy;
  if (name == "official") return Protocol::official;
  throw DataError("unknown protocol '" + name + "' (expected fair, legacy or official)");
}

const char* to_string(Protocol p) {
  switch (p) {
    case Protocol::fair: return "fair";
    case Protocol::legacy: return "legacy";
    case Protocol::official: return "official";
  }
  return "?";
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::train;
  if (name == "dev") return Split::dev;
  if (name == "test") return Split::test;
  throw DataError("unknown split '" + name + "' (expected train, dev or test)");
}

const char* to_string(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::dev: return "dev";
    case Split::test: return "test";
  }
  return "?";
}

const std::vector<Example>& Splits::get(Split s) const {
  return s == Split::train ? train : s == Split::dev ? dev : test;
}

std::string stratum_of(const Example& e) { return e.label >= 0 ? std::to_string(e.label) : std::string(); }

std::vector<FoundFile> find_files(const Task& task, const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw DataError(dir.string() + ": no such data directory");
  std::vector<FoundFile> found;
  for (const auto& [split, names] : task.info.files) {
    bool first = true;
    for (const auto& name : names) {
      const auto path = dir / name;
      if (!std::filesystem::is_regular_file(path, ec)) continue;
      found.push_back({split, path, first});
      first = false;
    }
  }
  return found;
}

namespace {

// Examples grouped into units that a split never tears apart (MultiRC questions, ReCoRD passages).
std::vector<std::vector<std::size_t>> units_of(const std::vector<Example>& examples) {
  std::vector<std::vector<std::size_t>> units;
  std::map<std::string, std::size_t> unit_of_group;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const std::string& g = examples[i].group;
    if (g.empty()) {
      units.push_back({i});
      continue;
    }
    auto [it, inserted] = unit_of_group.try_emplace(g, units.size());
    if (inserted) units.emplace_back();
    units[it->second].push_back(i);
  }
  return units;
}

// Splits `examples` into (kept, taken): `take_units` units chosen stratified by the unit's first label.
std::pair<std::vector<Example>, std::vector<Example>> take_units(std::vector<Example> examples, std::size_t take_units,
                                                                  std::uint64_t seed) {
  const auto units = units_of(examples);
  std::vector<std::string> strata;
  for (const auto& u : units) strata.push_back(stratum_of(examples[u.front()]));
  const auto chosen = stratified_sample(strata, take_units, seed);
  std::vector<bool> is_taken(units.size(), false);
  for (std::size_t u : chosen) is_taken[u] = true;
  std::vector<bool> example_taken(examples.size(), false);
  for (std::size_t u = 0; u < units.size(); ++u)
    for (std::size_t i : units[u]) example_taken[i] = is_taken[u];
  std::pair<std::vector<Example>, std::vector<Example>> out;
  for (std::size_t i = 0; i < examples.size(); ++i)
    (example_taken[i] ? out.second : out.first).push_back(std::move(examples[i]));
  return out;
}

std::size_t unit_count(const std::vector<Example>& examples) { return units_of(examples).size(); }

const FoundFile* used_file(const std::vector<FoundFile>& files, OfficialSplit split) {
  for (const auto& f : files)
    if (f.split == split && f.used) return &f;
  return nullptr;
}

std::string looked_for(const Task& task, OfficialSplit split) {
  std::string s;
  for (const auto& n : task.info.files_for(split)) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none defined" : s;
}

std::vector<Example> read_required(const Task& task, const std::vector<FoundFile>& files, OfficialSplit split,
                                   const std::filesystem::path& dir, const char* why) {
  const FoundFile* f = used_file(files, split);
  if (!f)
    throw DataError(task.info.id + ": no " + to_string(split) + " file in " + dir.string() + " (" + why +
                    "; looked for " + looked_for(task, split) + ")");
  return task.read(f->path);
}

void require_labels(const std::vector<Example>& examples, const FoundFile& file, const char* why) {
  const bool any = std::any_of(examples.begin(), examples.end(), [](const Example& e) { return e.labelled(); });
  if (!any) throw DataError(file.path.string() + ": the file has no labels (" + why + ")");
}

}  // namespace

Splits load_splits(const Task& task, const std::filesystem::path& dir, const SplitOptions& options) {
  Splits s;
  s.files = find_files(task, dir);
  const FoundFile* dev_file = used_file(s.files, OfficialSplit::dev);
  const FoundFile* test_file = used_file(s.files, OfficialSplit::test);

  // Diagnostic sets (SuperGLUE AX-b, AX-g) have no train or dev: only their test is read.
  if (task.info.files_for(OfficialSplit::train).empty()) {
    s.test = read_required(task, s.files, OfficialSplit::test, dir, "an evaluation-only task");
    return s;
  }

  const auto carve = [&](std::vector<Example> train) {
    const std::size_t units = unit_count(train);
    std::size_t dev_units = static_cast<std::size_t>(std::llround(options.dev_fraction * static_cast<double>(units)));
    dev_units = std::min(dev_units, options.dev_max);
    if (dev_units == 0 && units >= 2) dev_units = 1;
    auto [kept, taken] = take_units(std::move(train), dev_units, options.split_seed);
    s.train = std::move(kept);
    s.dev = std::move(taken);
  };

  switch (options.protocol) {
    case Protocol::fair: {
      if (!options.require_train && !used_file(s.files, OfficialSplit::train)) {
        s.notes.push_back("no train file (looked for " + looked_for(task, OfficialSplit::train) + "): train and dev are empty");
      } else {
        carve(read_required(task, s.files, OfficialSplit::train, dir, "the fair protocol carves dev from train"));
      }
      // The official dev becomes the test set; a task without one (AG News) keeps its labelled test.
      if (dev_file) {
        s.test = task.read(dev_file->path);
        require_labels(s.test, *dev_file, "the fair protocol evaluates on the official dev set");
      } else {
        s.test = read_required(task, s.files, OfficialSplit::test, dir, "the fair protocol needs a dev or labelled test file");
        require_labels(s.test, *test_file, "the fair protocol evaluates on it");
      }
      break;
    }
    case Protocol::legacy: {
      s.train = read_required(task, s.files, OfficialSplit::train, dir, "the legacy protocol trains on it");
      if (dev_file) {
        s.dev = task.read(dev_file->path);
        require_labels(s.dev, *dev_file, "the legacy protocol selects and reports on the official dev set");
      } else {
        s.dev = read_required(task, s.files, OfficialSplit::test, dir, "the legacy protocol needs a dev or labelled test file");
        require_labels(s.dev, *test_file, "the legacy protocol selects and reports on it");
      }
      s.test = s.dev;
      break;
    }
    case Protocol::official: {
      std::vector<Example> train = read_required(task, s.files, OfficialSplit::train, dir, "the official protocol trains on it");
      if (dev_file) {
        s.train = std::move(train);
        s.dev = task.read(dev_file->path);
      } else {
        carve(std::move(train));
      }
      s.test = read_required(task, s.files, OfficialSplit::test, dir, "the official protocol needs labelled test data");
      require_labels(s.test, *test_file, "the official protocol needs labelled test data");
      break;
    }
  }

  if (options.train_size) {
    if (*options.train_size == 0) throw DataError("train_size must be positive");
    const std::size_t units = unit_count(s.train);
    if (*options.train_size < units) {
      auto [rest, sample] = take_units(std::move(s.train), *options.train_size, options.data_seed);
      s.train = std::move(sample);
    }
  }
  return s;
}

}  // namespace petlab::tasks
