// Protocols turn the official files into the train / dev / test splits a run uses.
//   fair     dev carved from train (fixed split seed, stratified, grouped units kept whole); the official
//            dev becomes the test set, evaluated once (tasks without an official dev keep their test).
//   legacy   train as distributed; the official dev serves both model selection and the report.
//   official train, dev and a labelled official test as distributed.
// `train_size` then subsamples train, stratified by label, with the data seed. Dev carving and
// subsampling draw whole units: a MultiRC question or ReCoRD passage never straddles two splits.
#pragma once

#include "petlab/tasks/task.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace petlab::tasks {

enum class Protocol { fair, legacy, official };
Protocol parse_protocol(const std::string& name);
const char* to_string(Protocol p);

enum class Split { train, dev, test };
Split parse_split(const std::string& name);
const char* to_string(Split s);

struct SplitOptions {
  Protocol protocol = Protocol::fair;
  std::uint64_t split_seed = 42;            ///< fixed: the carved dev set is the same in every run
  double dev_fraction = 0.1;                ///< share of train units carved off as dev (fair) ...
  std::size_t dev_max = 1000;               ///< ... at most this many units
  /// Subsample train to this many units: examples, except that grouped examples (a MultiRC question's
  /// answers, a ReCoRD passage's queries) count as one unit and stay together.
  std::optional<std::size_t> train_size;
  std::uint64_t data_seed = 0;              ///< seed of that subsample
  /// Without a train file: fail (training needs one) or leave train and dev empty (`data stats` on a
  /// folder that holds only evaluation files, like ../shared/data's E2E and SAMSum).
  bool require_train = true;
};

/// One official file that exists in the data directory.
struct FoundFile {
  OfficialSplit split;
  std::filesystem::path path;
  bool used = false;  ///< the preferred candidate for its split (others are listed, not read)
};
/// Every candidate file of the task present in `dir` (fails if `dir` is not a directory).
std::vector<FoundFile> find_files(const Task& task, const std::filesystem::path& dir);

struct Splits {
  std::vector<Example> train, dev, test;
  std::vector<FoundFile> files;
  std::vector<std::string> notes;  ///< what the protocol could not do with the files present
  const std::vector<Example>& get(Split s) const;
};

/// Reads the task's files in `dir` and applies the protocol. Fails naming the files it looked for when
/// a split the protocol needs is missing, and when the official protocol meets an unlabelled test file.
Splits load_splits(const Task& task, const std::filesystem::path& dir, const SplitOptions& options);

/// The stratum an example is sampled in: its label (or "" for regression and generation).
std::string stratum_of(const Example& e);

}  // namespace petlab::tasks
