// `petlab forward`: tokenise JSONL lines, run the backbone (with a saved adapter when --adapter names one),
// and write what it computed as safetensors: input_ids, attention_mask, last_hidden_state (after any soft
// tokens a method prepended), head_logits when the adapter carries an encoder head, and for T5 lines with a
// target the teacher-forced logits.
// The same inputs always give a byte-identical file (sorted keys, fixed header, one thread order).
#include "artifacts/artifact.hpp"
#include "backbone/backbone.hpp"
#include "backbone/device.hpp"
#include "backbone/safetensors.hpp"
#include "backbone/t5.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "plugin/registry.hpp"
#include "tokenizer/tokenizer.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>

namespace petlab::cli {
namespace {

struct ForwardOptions {
  std::string model, input, out, adapter, device = "cpu", dtype = "fp32";
  std::vector<std::string> plugin_paths;
  size_t max_length = 512;
};

struct Line {
  std::string text;
  std::optional<std::string> pair, target;
};

std::vector<Line> read_lines(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw Error(fmt::format("cannot read input '{}'", file));
  std::vector<Line> lines;
  std::string raw;
  for (size_t number = 1; std::getline(in, raw); ++number) {
    if (raw.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines are allowed
    const auto where = fmt::format("{}:{}", file, number);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(raw);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(fmt::format("{}: invalid JSON ({})", where, e.what()));  // names ill-formed UTF-8 too
    }
    if (!j.is_object()) throw Error(where + ": expected a JSON object per line");
    auto text_field = [&](const char* key, bool required) -> std::optional<std::string> {
      if (!j.contains(key)) {
        if (required) throw Error(fmt::format("{}: missing \"{}\" (a string)", where, key));
        return std::nullopt;
      }
      if (!j[key].is_string()) throw Error(fmt::format("{}: \"{}\" must be a string, got {}", where, key, j[key].dump()));
      return j[key].get<std::string>();
    };
    for (const auto& [key, value] : j.items())
      if (key != "text" && key != "text_pair" && key != "target")
        throw Error(fmt::format("{}: unknown field \"{}\"; expected text, text_pair, target", where, key));
    lines.push_back({*text_field("text", true), text_field("text_pair", false), text_field("target", false)});
  }
  if (lines.empty()) throw Error(fmt::format("input '{}' has no lines", file));
  return lines;
}

at::Tensor to_tensor(const std::vector<int64_t>& values, size_t rows, size_t cols) {
  return at::tensor(values, at::kLong).view({static_cast<int64_t>(rows), static_cast<int64_t>(cols)});
}

/// Encodes every line; a tokenizer error (e.g. invalid UTF-8) is reported with the line it came from.
std::vector<tok::Encoding> encode_lines(const tok::Tokenizer& tokenizer, const std::vector<Line>& lines,
                                        const std::string& file, size_t max_length, bool targets) {
  std::vector<tok::Encoding> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    try {
      out.push_back(targets ? tokenizer.encode(*lines[i].target, std::nullopt, max_length)
                            : tokenizer.encode(lines[i].text, lines[i].pair, max_length));
    } catch (const Error& e) {
      throw Error(fmt::format("{}: line {} ({}): {}", file, i + 1, targets ? "target" : "text", e.what()));
    }
  }
  return out;
}

void run_forward(const ForwardOptions& o) {
  const auto lines = read_lines(o.input);
  const auto tokenizer = tok::load_tokenizer(o.model);
  std::shared_ptr<Backbone> model = load_backbone(o.model, {.device = o.device, .dtype = o.dtype});
  model->surface().tokenizer = tokenizer.get();  // prompt tuning may initialise from text while re-attaching
  std::unique_ptr<TunedModel> tuned;
  if (!o.adapter.empty()) {
    MethodRegistry registry;
    registry.load_directories(plugin_search_path(o.plugin_paths));
    tuned = load_artifact(o.adapter, model, registry);
    tuned->train(false);
    const ParameterCount count = tuned->count();
    log::info("adapter {}: {} method parameters, {} head parameters ({:.4f}% of the backbone)", o.adapter,
              count.methods, count.head, 100.0 * static_cast<double>(count.methods + count.head) / count.backbone);
  }
  const c10::Device device = parse_device(o.device);
  const auto precision = parse_precision(o.dtype, device);

  const auto encodings = encode_lines(*tokenizer, lines, o.input, o.max_length, false);
  const tok::Batch batch = tok::pad_batch(encodings, tokenizer->pad_id());
  const at::Tensor ids = to_tensor(batch.ids, batch.rows, batch.cols);
  const at::Tensor mask = to_tensor(batch.attention_mask, batch.rows, batch.cols);
  const at::Tensor types = to_tensor(batch.type_ids, batch.rows, batch.cols);

  std::map<std::string, at::Tensor> out{{"input_ids", ids}, {"attention_mask", mask}};
  at::InferenceMode inference;
  AutocastScope autocast(device, precision);
  const EncoderOutput encoded = model->encode(ids.to(device), mask.to(device), types.to(device));
  out["last_hidden_state"] = encoded.hidden.to(at::kFloat).cpu();
  if (tuned && tuned->head() != nullptr) out["head_logits"] = tuned->head()->forward(encoded).to(at::kFloat).cpu();

  size_t with_target = 0;
  for (const auto& l : lines) with_target += l.target.has_value();
  if (with_target == 0) {
    // nothing else to compute
  } else if (!model->is_encoder_decoder()) {
    throw Error(fmt::format("{}: lines have \"target\", but {} is an encoder-only model (targets are for T5)", o.input,
                            o.model));
  } else if (with_target != lines.size()) {
    throw Error(fmt::format("{}: {} of {} lines have \"target\"; give it on every line or none", o.input, with_target,
                            lines.size()));
  } else {
    auto& t5 = static_cast<T5Model&>(*model);
    const auto targets = encode_lines(*tokenizer, lines, o.input, o.max_length, true);
    const tok::Batch labels = tok::pad_batch(targets, tokenizer->pad_id());
    const at::Tensor label_ids = to_tensor(labels.ids, labels.rows, labels.cols);
    const at::Tensor decoder_ids = t5.shift_right(label_ids.to(device));
    // The decoder sees its start token plus every label token but the last, as in teacher forcing.
    const at::Tensor label_mask = to_tensor(labels.attention_mask, labels.rows, labels.cols);
    const at::Tensor decoder_mask =
        at::cat({at::ones({label_mask.size(0), 1}, at::kLong), label_mask.narrow(1, 0, label_mask.size(1) - 1)}, 1);
    out["labels"] = label_ids;
    out["decoder_input_ids"] = decoder_ids.cpu();
    out["logits"] = t5.decode(encoded, decoder_ids, decoder_mask.to(device)).to(at::kFloat).cpu();
  }
  write_safetensors(o.out, out, {{"format", "pt"}, {"producer", "petlab forward"}});
}

}  // namespace

void add_forward_command(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<ForwardOptions>();
  auto* cmd = app.add_subcommand("forward", "Run a backbone on JSONL inputs and save its outputs as safetensors");
  cmd->add_option("--model", o->model, "Hugging Face model folder (config.json + model.safetensors + tokenizer)")
      ->required();
  cmd->add_option("--input", o->input, "JSONL, one {\"text\", \"text_pair\"?, \"target\"?} per line")->required();
  cmd->add_option("--out", o->out, "Output .safetensors file")->required();
  cmd->add_option("--max-length", o->max_length, "Truncate inputs (longest_first) to this many tokens")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--adapter", o->adapter,
                  "Folder of a saved adapter: petlab's (petlab.json) or HF PEFT's (adapter_config.json)");
  cmd->add_option("--device", o->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "fp32, bf16 or fp16 (autocast)")->capture_default_str();
  cmd->callback([o, &global] {
    o->plugin_paths = global.plugin_paths;
    run_forward(*o);
  });
}

}  // namespace petlab::cli
