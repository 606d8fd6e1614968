// A trained method set on disk: petlab.json (what to attach, to which backbone shape, with which head) and
// adapter.safetensors (the method parameters, folded, and the head). When the run is a single method that HF
// PEFT knows, PEFT's adapter_config.json + adapter_model.safetensors are written alongside, so a PEFT user can
// load it; a folder with only PEFT's files loads too.
#pragma once

#include "tuning/tuned_model.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace petlab {

struct SaveOptions {
  bool peft = true;  ///< also write PEFT's files when the method set allows it
};

/// Folds every method (prefix's MLP → plain prefixes) and writes `model`'s method parameters and head into
/// `dir` (created when missing). Files are written atomically; a crash leaves the old or the new file.
void save_artifact(TunedModel& model, const std::filesystem::path& dir, const SaveOptions& options = {});

struct LoadArtifactOptions {
  /// When set, the method ids the caller expects (in order); an artifact of other methods is refused.
  std::vector<std::string> expected_methods;
};

/// Rebuilds the tuned model saved in `dir` on `backbone`: attaches the saved methods with the saved knobs and
/// the head, then copies the saved tensors in. Throws petlab::Error when the folder holds neither format, when
/// it was saved for another backbone shape (naming what differs) or other methods, or when a tensor is
/// missing, unexpected or mis-shaped (naming it).
std::unique_ptr<TunedModel> load_artifact(const std::filesystem::path& dir, std::shared_ptr<Backbone> backbone,
                                          const MethodRegistry& registry, const LoadArtifactOptions& options = {});

/// Whether `dir` holds a petlab artifact or a PEFT adapter.
bool is_artifact_dir(const std::filesystem::path& dir);

}  // namespace petlab
