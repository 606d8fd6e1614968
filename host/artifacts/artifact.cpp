#include "artifacts/artifact.hpp"

#include "artifacts/peft_format.hpp"
#include "backbone/safetensors.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/version.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <map>
#include <set>

namespace petlab {
namespace fs = std::filesystem;
namespace {

constexpr const char* kManifest = "petlab.json";
constexpr const char* kTensors = "adapter.safetensors";
constexpr const char* kFormat = "petlab-adapter";
constexpr int kFormatVersion = 1;

/// What must match for saved parameters to mean the same thing on another load of a backbone.
nlohmann::json backbone_signature(Backbone& backbone) {
  std::map<std::string, int> layers;
  int64_t heads = 0;
  const SiteRegistry& sites = backbone.surface().sites;
  for (size_t i = 0; i < sites.size(); ++i) {
    const Site& s = sites.at(static_cast<SiteId>(i));
    if (s.layer >= 0) layers[s.stack] = std::max(layers[s.stack], s.layer + 1);
    if (s.kind == PETLAB_SITE_ATTENTION) heads = s.num_heads;
  }
  return {{"model_type", backbone.config().model_type},
          {"hidden_size", backbone.hidden_size()},
          {"vocab_size", backbone.vocab_size()},
          {"layers", layers},
          {"num_heads", heads}};
}

const char* head_kind_name(HeadKind kind) {
  switch (kind) {
    case HeadKind::classification: return "classification";
    case HeadKind::regression: return "regression";
    case HeadKind::multiple_choice: return "multiple_choice";
  }
  return "classification";
}

nlohmann::json head_json(const EncoderHead* head) {
  if (head == nullptr) return nullptr;
  const HeadOptions& o = head->options();
  return {{"kind", head_kind_name(o.kind)}, {"num_labels", o.num_labels}, {"dropout", o.dropout}};
}

std::optional<HeadOptions> head_options(const nlohmann::json& j, const fs::path& manifest) {
  if (j.is_null()) return std::nullopt;
  HeadOptions o;
  const std::string kind = j.value("kind", "classification");
  if (kind == "classification") o.kind = HeadKind::classification;
  else if (kind == "regression") o.kind = HeadKind::regression;
  else if (kind == "multiple_choice") o.kind = HeadKind::multiple_choice;
  else throw Error(fmt::format("{}: head.kind '{}' is not classification, regression or multiple_choice", manifest.string(), kind));
  o.num_labels = j.value("num_labels", int64_t{2});
  o.dropout = j.value("dropout", 0.1);
  return o;
}

/// Parameters that belong in an artifact: the methods' (except training-only `transient` ones) and the head's.
bool is_saved(const Parameter& p) { return p.owner != "backbone" && !p.has_tag("transient"); }

void write_text_atomically(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) throw Error(fmt::format("{}: cannot write", tmp.string()));
  }
  fs::rename(tmp, file);
}

/// Copies `saved` into the model's saved parameters; every one must be there with its shape, nothing extra.
void copy_tensors(TunedModel& model, const std::map<std::string, at::Tensor>& saved, const fs::path& source) {
  at::NoGradGuard no_grad;
  std::set<std::string> used;
  for (Parameter& p : model.backbone().surface().params.all()) {
    if (!is_saved(p)) continue;
    auto it = saved.find(p.name);
    if (it == saved.end())
      throw Error(fmt::format("{}: has no tensor '{}' (the attached methods create it; was the artifact saved with "
                              "other knobs?)", source.string(), p.name));
    if (it->second.sizes() != p.tensor.sizes())
      throw Error(fmt::format("{}: tensor '{}' has shape {}, the model's has {}", source.string(), p.name,
                              it->second.sizes(), p.tensor.sizes()));
    p.tensor.copy_(it->second);
    used.insert(p.name);
  }
  for (const auto& [name, tensor] : saved)
    if (used.count(name) == 0)
      throw Error(fmt::format("{}: tensor '{}' belongs to no parameter of the attached methods or head",
                              source.string(), name));
}

void check_expected(const std::vector<std::string>& found, const LoadArtifactOptions& options, const fs::path& dir) {
  if (!options.expected_methods.empty() && found != options.expected_methods)
    throw Error(fmt::format("{}: the artifact holds method(s) [{}], but the run attaches [{}]", dir.string(),
                            fmt::join(found, ", "), fmt::join(options.expected_methods, ", ")));
}

std::unique_ptr<TunedModel> load_petlab(const fs::path& dir, std::shared_ptr<Backbone> backbone,
                                        const MethodRegistry& registry, const LoadArtifactOptions& options) {
  const fs::path manifest_path = dir / kManifest;
  std::ifstream in(manifest_path);
  const auto manifest = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object() || manifest.value("format", "") != kFormat)
    throw Error(fmt::format("{}: not a petlab artifact manifest (expected \"format\": \"{}\")", manifest_path.string(), kFormat));
  if (manifest.value("format_version", 0) != kFormatVersion)
    throw Error(fmt::format("{}: format_version {} is not supported by petlab {} (it reads version {})",
                            manifest_path.string(), manifest.value("format_version", 0), PETLAB_VERSION, kFormatVersion));

  const nlohmann::json saved = manifest.value("backbone", nlohmann::json::object());
  const nlohmann::json here = backbone_signature(*backbone);
  std::vector<std::string> differences;
  for (const auto& [key, value] : here.items())
    if (saved.value(key, nlohmann::json()) != value)
      differences.push_back(fmt::format("{}: saved {}, this backbone {}", key, saved.value(key, nlohmann::json()).dump(), value.dump()));
  if (!differences.empty())
    throw Error(fmt::format("{}: the artifact was saved for another backbone shape ({}); load it on the backbone it "
                            "was trained on ({})", dir.string(), fmt::join(differences, "; "), saved.value("source", "?")));

  std::vector<MethodSpec> specs;
  std::vector<std::string> ids;
  for (const auto& m : manifest.value("methods", nlohmann::json::array())) {
    specs.push_back({m.at("id").get<std::string>(), m.value("knobs", nlohmann::json::object())});
    ids.push_back(specs.back().id);
  }
  check_expected(ids, options, dir);
  auto model = std::make_unique<TunedModel>(std::move(backbone), head_options(manifest.value("head", nlohmann::json()), manifest_path),
                                            specs, registry, manifest.value("init_seed", uint64_t{0}));
  const SafetensorsFile file(dir / kTensors);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& name : file.names()) tensors[name] = file.get(name);
  copy_tensors(*model, tensors, dir / kTensors);
  return model;
}

std::unique_ptr<TunedModel> load_peft(const fs::path& dir, std::shared_ptr<Backbone> backbone,
                                      const MethodRegistry& registry, const LoadArtifactOptions& options) {
  const PeftAdapter adapter = read_peft_adapter(dir);
  const std::string type = adapter.config.value("peft_type", "");
  const PeftConverter* converter = peft_converter_for_type(type);
  if (converter == nullptr)
    throw Error(fmt::format("{}/adapter_config.json: peft_type '{}' is not one petlab reads ({})", dir.string(), type,
                            peft_types_supported()));
  const PeftModelInfo info{backbone->surface(), backbone->config()};
  const MethodState state = converter->from_peft(adapter, info);
  check_expected({state.method}, options, dir);
  auto model = std::make_unique<TunedModel>(std::move(backbone), std::nullopt,
                                            std::vector<MethodSpec>{{state.method, state.knobs}}, registry, 0);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [name, tensor] : state.tensors) tensors[state.method + "/" + name] = tensor;
  copy_tensors(*model, tensors, dir / "adapter_model.safetensors");
  return model;
}

}  // namespace

void save_artifact(TunedModel& model, const fs::path& dir, const SaveOptions& options) {
  fs::create_directories(dir);
  ModelSurface& surface = model.backbone().surface();
  nlohmann::json methods = nlohmann::json::array();
  std::vector<MethodState> states;
  for (const auto& m : model.methods()) {
    nlohmann::json knobs = m->knobs();
    knobs.update(m->fold(surface));
    methods.push_back({{"id", m->id()}, {"name", m->name()}, {"version", m->version()}, {"knobs", knobs}});
    states.push_back({m->id(), knobs, {}});
  }
  std::map<std::string, at::Tensor> tensors;
  for (const Parameter& p : surface.params.all()) {
    if (!is_saved(p)) continue;
    tensors[p.name] = p.tensor.detach();
    for (size_t i = 0; i < model.methods().size(); ++i)
      if (p.owner == model.methods()[i]->name()) states[i].tensors[p.name.substr(p.owner.size() + 1)] = p.tensor.detach();
  }
  write_safetensors(dir / kTensors, tensors, {{"format", "pt"}, {"producer", "petlab " PETLAB_VERSION}});

  nlohmann::json signature = backbone_signature(model.backbone());
  signature["source"] = model.backbone().config().dir.string();
  const nlohmann::json manifest = {{"format", kFormat},
                                   {"format_version", kFormatVersion},
                                   {"petlab_version", PETLAB_VERSION},
                                   {"backbone", signature},
                                   {"head", head_json(model.head())},
                                   {"init_seed", model.init_seed()},
                                   {"methods", methods}};
  write_text_atomically(dir / kManifest, manifest.dump(2) + "\n");

  if (options.peft && states.size() == 1)
    if (const PeftConverter* converter = peft_converter_for_method(states[0].method)) {
      // The PEFT copy is a courtesy: a configuration PEFT cannot express (prefixes on T5's encoder) still
      // saves in petlab's own format, and says why the copy is missing.
      try {
        PeftAdapter adapter = converter->to_peft(states[0], {surface, model.backbone().config()});
        adapter.config["base_model_name_or_path"] = model.backbone().config().dir.string();
        write_peft_adapter(dir, adapter);
      } catch (const Error& e) {
        log::info("{}: no HF PEFT copy written: {}", dir.string(), e.what());
      }
    }
}

bool is_artifact_dir(const fs::path& dir) {
  return fs::exists(dir / kManifest) || fs::exists(dir / "adapter_config.json");
}

std::unique_ptr<TunedModel> load_artifact(const fs::path& dir, std::shared_ptr<Backbone> backbone,
                                          const MethodRegistry& registry, const LoadArtifactOptions& options) {
  if (fs::exists(dir / kManifest)) return load_petlab(dir, std::move(backbone), registry, options);
  if (fs::exists(dir / "adapter_config.json")) return load_peft(dir, std::move(backbone), registry, options);
  throw Error(fmt::format("{}: neither a petlab artifact ({}) nor a PEFT adapter (adapter_config.json)", dir.string(),
                          kManifest));
}

}  // namespace petlab
