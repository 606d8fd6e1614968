// One run of a study, inside its worker process: read spec.json, load the backbone, tokenizer, task splits
// and methods, train under the protocol, evaluate test once, and write curve.jsonl and result.json (always:
// a failure is a result too, with its error).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace petlab {

/// Runs the spec; returns 0 when the run finished or diverged (a result either way), 1 when it failed.
int run_cell(const std::filesystem::path& spec_file, const std::vector<std::string>& plugin_paths);

}  // namespace petlab
