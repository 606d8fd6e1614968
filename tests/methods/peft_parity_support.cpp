#include "methods/peft_parity_support.hpp"

#include "backbone/t5.hpp"
#include "methods/built_methods.hpp"
#include "support/run.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace petlab::peft_parity {

const MethodRegistry& registry() { return testing::built_methods(); }

const PeftConverter& converter(const std::string& method) {
  const PeftConverter* c = peft_converter_for_method(method);
  REQUIRE_MESSAGE(c != nullptr, "no PEFT converter registered for " << method);
  return *c;
}

at::Tensor outputs(Backbone& model, const SafetensorsFile& in) {
  at::NoGradGuard no_grad;
  const at::Tensor mask = in.get("attention_mask");
  if (model.is_encoder_decoder()) {
    auto& t5 = static_cast<T5Model&>(model);
    return t5.decode(t5.encode(in.get("input_ids"), mask), in.get("decoder_input_ids"), in.get("decoder_attention_mask"));
  }
  const at::Tensor types = in.contains("token_type_ids") ? in.get("token_type_ids") : at::Tensor();
  // The encoder's own mask: the input's, with the soft tokens' rows first where an embed hook added them.
  const EncoderOutput out = model.encode(in.get("input_ids"), mask, types);
  return out.hidden * out.attention_mask.unsqueeze(-1).to(at::kFloat);
}

at::Tensor peft_outputs(Backbone& model, const SafetensorsFile& file, const SafetensorsFile& inputs,
                        const std::string& suffix) {
  if (model.is_encoder_decoder()) return file.get("logits" + suffix);
  const at::Tensor hidden = file.get("last_hidden_state" + suffix);
  const at::Tensor mask = inputs.get("attention_mask");
  const int64_t added = hidden.size(1) - mask.size(1);
  const at::Tensor full = at::cat({at::ones({mask.size(0), added}, mask.options()), mask}, 1);
  return hidden * full.unsqueeze(-1).to(hidden.scalar_type());
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

double relative_diff(const at::Tensor& a, const at::Tensor& b) {
  return max_abs_diff(a, b) / std::max(1.0, b.abs().max().item<double>());
}

Comparison compare(Backbone& model, const at::Tensor& ours, const SafetensorsFile& peft, const SafetensorsFile& inputs) {
  const at::Tensor exact = peft_outputs(model, peft, inputs, "_fp64");
  const at::Tensor theirs = peft_outputs(model, peft, inputs);
  return {max_abs_diff(ours, theirs), max_abs_diff(ours, exact), max_abs_diff(theirs, exact)};
}

double tolerance(const Comparison& c) { return std::max(kTolerance, 2 * c.peft_vs_fp64); }

std::ostream& operator<<(std::ostream& out, const Comparison& c) {
  return out << "max abs difference to PEFT " << c.vs_peft << " (float64 result: petlab " << c.ours_vs_fp64
             << ", PEFT " << c.peft_vs_fp64 << " away)";
}

double tolerance(const fs::path& fixture_case) {
  const double noise = read_json(fixture_case / "counts.json").at("float32_noise").get<double>();
  return std::max(kTolerance, 2 * noise);
}

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file);
  return nlohmann::json::parse(in);
}

std::unique_ptr<MethodInstance> attach_state(Backbone& model, const MethodState& state) {
  auto instance = registry().create(state.method, state.knobs);
  instance->attach(model.surface());
  int64_t created = 0;
  for (const auto& p : model.surface().params.all()) created += p.owner == instance->id();
  CHECK(created == static_cast<int64_t>(state.tensors.size()));
  at::NoGradGuard no_grad;
  for (const auto& [name, tensor] : state.tensors) {
    Parameter* p = model.surface().params.find(instance->id() + "/" + name);
    REQUIRE_MESSAGE(p != nullptr, "the method did not create " << name);
    REQUIRE(p->tensor.sizes() == tensor.sizes());
    p->tensor.copy_(tensor);
  }
  return instance;
}

int64_t method_elements(Backbone& model, const std::string& owner) {
  int64_t n = 0;
  for (const auto& p : model.surface().params.all())
    if (p.owner == owner) {
      CHECK(p.trainable());
      n += p.tensor.numel();
    }
  return n;
}

int64_t trainable_elements(Backbone& model, const std::string& owner) {
  int64_t n = 0;
  for (const auto& p : model.surface().params.all())
    if (p.owner == owner && p.trainable()) n += p.tensor.numel();
  return n;
}

std::shared_ptr<BertEncoder> roberta_base_shape() {
  ModelConfig config{"roberta-base-shape", "roberta", nlohmann::json::object()};
  BertOptions o;
  o.vocab = 8, o.hidden = 768, o.layers = 12, o.heads = 12, o.intermediate = 3072, o.max_positions = 8;
  o.type_vocab = 1, o.pad_id = 1, o.roberta_positions = true;
  return std::make_shared<BertEncoder>(config, o);
}

std::map<std::string, at::Tensor> randomise(Backbone& model, const std::string& owner, const Seeded& values) {
  at::NoGradGuard no_grad;
  at::manual_seed(values.seed);
  std::map<std::string, at::Tensor> tensors;
  for (auto& p : model.surface().params.all())
    if (p.owner == owner) {
      p.tensor.copy_(values.offset + at::randn_like(p.tensor) * values.scale);
      tensors[p.name.substr(owner.size() + 1)] = p.tensor.detach().clone();
    }
  return tensors;
}

Comparison petlab_to_peft(const std::string& method, const Seeded& values, const fs::path& fixture,
                          const PeftCase& c, const nlohmann::json& knobs) {
  const fs::path model_dir = kTiny / c.model / "model";
  auto model = load_backbone(model_dir);
  auto instance = registry().create(method, knobs);
  instance->attach(model->surface());
  const MethodState state{method, knobs, randomise(*model, method, values)};
  const fs::path inputs_file = fixture / c.name / "reference.safetensors";
  const SafetensorsFile inputs(inputs_file);
  const at::Tensor ours = outputs(*model, inputs);
  // The fixture is named after the script that wrote it (tests/methods/CMakeLists.txt).
  const SafetensorsFile peft = peft_check(fixture.filename().string() + ".py", method + "-to-peft-" + c.name,
                                          converter(method).to_peft(state, {model->surface(), model->config()}),
                                          model_dir, inputs_file);
  return compare(*model, ours, peft, inputs);
}

MergeRoundTrip merge_round_trip(Backbone& model, MethodInstance& instance, const SafetensorsFile& ref) {
  std::map<std::string, at::Tensor> before;
  for (auto& p : model.surface().params.all())
    if (p.owner == "backbone") before[p.name] = p.tensor.detach().clone();
  auto farthest = [&] {
    double d = 0;
    for (auto& p : model.surface().params.all())
      if (p.owner == "backbone") d = std::max(d, max_abs_diff(p.tensor, before[p.name]));
    return d;
  };
  MergeRoundTrip r;
  r.hooked = outputs(model, ref);
  instance.merge(model.surface());
  r.merged = outputs(model, ref);
  r.moved = farthest();
  instance.unmerge(model.surface());
  r.unmerged = outputs(model, ref);
  r.restored = farthest();
  return r;
}

SafetensorsFile peft_check(const std::string& script, const std::string& tag, PeftAdapter adapter,
                           const fs::path& model_dir, const fs::path& inputs) {
  const fs::path dir = fs::temp_directory_path() / ("petlab-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  adapter.config["base_model_name_or_path"] = model_dir.string();
  write_peft_adapter(dir / "adapter", adapter);
  using testing::shell_quote;
  const auto result = testing::run("HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 " + shell_quote(PETLAB_PYTHON_EXE) + " " +
                                   shell_quote(std::string(PETLAB_REFERENCE_SCRIPTS) + "/" + script) + " --check " +
                                   shell_quote((dir / "adapter").string()) + " --model " +
                                   shell_quote(model_dir.string()) + " --inputs " + shell_quote(inputs.string()) +
                                   " --out " + shell_quote((dir / "peft.safetensors").string()));
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  SafetensorsFile peft(dir / "peft.safetensors");
  fs::remove_all(dir);
  return peft;
}

}  // namespace petlab::peft_parity
