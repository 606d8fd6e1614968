// Backbone load time and forward throughput, the petlab side of bench/forward (HF's side is
// forward_reference.py). Inputs: one text per line of a file; batches of --batch texts, padded to the
// longest in the batch; throughput counts real (non-pad) tokens. Prints one JSON object.
#include "backbone/backbone.hpp"
#include "tokenizer/tokenizer.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, texts_file;
  int batch_size = 32, threads = 2, max_length = 128, repeats = 3;
  CLI::App app{"petlab forward benchmark"};
  app.add_option("--model", model_dir)->required();
  app.add_option("--texts", texts_file)->required();
  app.add_option("--batch", batch_size);
  app.add_option("--threads", threads);
  app.add_option("--max-length", max_length);
  app.add_option("--repeats", repeats);
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(threads);

  std::vector<std::string> texts;
  std::ifstream in(texts_file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) texts.push_back(line);

  const auto load_start = Clock::now();
  auto tokenizer = petlab::tok::load_tokenizer(model_dir);
  auto model = petlab::load_backbone(model_dir);
  const double load_s = seconds_since(load_start);

  // Tokenise once, outside the timed loop (the reference does the same).
  std::vector<petlab::tok::Batch> batches;
  int64_t real_tokens = 0;
  for (size_t i = 0; i < texts.size(); i += batch_size) {
    std::vector<petlab::tok::Encoding> enc;
    for (size_t j = i; j < std::min(texts.size(), i + batch_size); ++j)
      enc.push_back(tokenizer->encode(texts[j], std::nullopt, max_length));
    batches.push_back(petlab::tok::pad_batch(enc, tokenizer->pad_id()));
    for (auto m : batches.back().attention_mask) real_tokens += m;
  }

  at::InferenceMode inference;
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    for (const auto& b : batches) {
      auto shape = std::vector<int64_t>{static_cast<int64_t>(b.rows), static_cast<int64_t>(b.cols)};
      const at::Tensor ids = at::tensor(b.ids, at::kLong).view(shape);
      const at::Tensor mask = at::tensor(b.attention_mask, at::kLong).view(shape);
      const at::Tensor types = at::tensor(b.type_ids, at::kLong).view(shape);
      model->encode(ids, mask, types);
    }
    best = std::min(best, seconds_since(start));
  }
  std::cout << nlohmann::json{{"side", "petlab"}, {"load_s", load_s}, {"forward_s", best},
                              {"tokens", real_tokens}, {"tokens_per_s", real_tokens / best},
                              {"texts", texts.size()}, {"threads", threads}}
                   .dump()
            << "\n";
}
