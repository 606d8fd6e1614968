// petlab method SDK: header-only C++ over the C ABI in abi.h.
//
// A method is a small class:
//
//   class Scale : public petlab::sdk::Method {
//    public:
//     static constexpr const char* id = "scale";
//     static constexpr const char* version = "1.0.0";
//     static constexpr const char* summary = "multiplies one site's output by a learned scalar";
//     static petlab::sdk::KnobList knobs() { return {{"site", "enc.L0.attn.o", "the site to scale"}}; }
//
//     explicit Scale(const petlab::sdk::Config& config) : site_(config.get_string("site")) {}
//     void attach(petlab::sdk::Model& model) override { ... add_parameter, add_hook ... }
//    private:
//     std::string site_;
//   };
//   PETLAB_PLUGIN("my-methods", "1.0.0", Scale)   // no semicolon needed
//
// The SDK turns exceptions into statuses at the boundary, checks knobs against the declared list, and
// keeps hook closures alive until the host releases them. Methods see sites and tagged parameters only.
#pragma once

#include <petlab/abi.h>
#include <petlab/build_id.hpp>
#include <petlab/layers.hpp>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace petlab::sdk {

/// An error with the ABI status it maps to.
class Error : public std::runtime_error {
 public:
  Error(petlab_status_t status, const std::string& message) : std::runtime_error(message), status_(status) {}
  petlab_status_t status() const { return status_; }

 private:
  petlab_status_t status_;
};

inline void write_error(petlab_error_t* error, const char* message) {
  if (error != nullptr) std::snprintf(error->message, PETLAB_ERROR_CAPACITY, "%s", message);
}

/// Runs fn and converts any exception into a status and a message: nothing crosses the boundary.
template <class Fn>
petlab_status_t guard(petlab_error_t* error, Fn&& fn) noexcept {
  try {
    fn();
    return PETLAB_OK;
  } catch (const Error& e) {
    write_error(error, e.what());
    return e.status();
  } catch (const std::exception& e) {
    write_error(error, e.what());
    return PETLAB_ERR_RUNTIME;
  } catch (...) {
    write_error(error, "unknown exception");
    return PETLAB_ERR_RUNTIME;
  }
}

/// Throws an Error built from a failed host call.
inline void check(petlab_status_t status, const petlab_error_t& error) {
  if (status != PETLAB_OK) throw Error(status, error.message);
}

inline at::Tensor& tensor_ref(petlab_tensor_t* handle) { return *reinterpret_cast<at::Tensor*>(handle); }
inline const petlab_tensor_t* tensor_handle(const at::Tensor& tensor) {
  return reinterpret_cast<const petlab_tensor_t*>(&tensor);
}

/// '*' matches any run of characters, '?' one character.
inline bool glob_match(const char* pattern, const char* text) {
  const char* star = nullptr;
  const char* resume = nullptr;
  while (*text != '\0') {
    if (*pattern == '*') {
      star = pattern++;
      resume = text;
    } else if (*pattern == '?' || *pattern == *text) {
      ++pattern;
      ++text;
    } else if (star != nullptr) {
      pattern = star + 1;
      text = ++resume;
    } else {
      return false;
    }
  }
  while (*pattern == '*') ++pattern;
  return *pattern == '\0';
}

/// A site target matches a site when the glob matches its full name ("enc.L*.attn.q") or the part after
/// the layer ("attn.q" matches every layer's query projection in every stack).
inline bool site_matches(const std::string& target, const std::string& site) {
  return glob_match(target.c_str(), site.c_str()) || glob_match(("*." + target).c_str(), site.c_str());
}

// ------------------------------------------------------------------ knobs and config

/// A declared knob: its name, type, default and one line of help.
struct Knob {
  std::string name;
  petlab_knob_type_t type;
  nlohmann::json default_value;
  std::string help;

  Knob(std::string n, bool d, std::string h) : name(std::move(n)), type(PETLAB_KNOB_BOOL), default_value(d), help(std::move(h)) {}
  Knob(std::string n, int d, std::string h) : name(std::move(n)), type(PETLAB_KNOB_INT), default_value(d), help(std::move(h)) {}
  Knob(std::string n, int64_t d, std::string h) : name(std::move(n)), type(PETLAB_KNOB_INT), default_value(d), help(std::move(h)) {}
  Knob(std::string n, double d, std::string h) : name(std::move(n)), type(PETLAB_KNOB_FLOAT), default_value(d), help(std::move(h)) {}
  Knob(std::string n, const char* d, std::string h) : name(std::move(n)), type(PETLAB_KNOB_STRING), default_value(d), help(std::move(h)) {}
  Knob(std::string n, std::vector<std::string> d, std::string h)
      : name(std::move(n)), type(PETLAB_KNOB_STRING_LIST), default_value(std::move(d)), help(std::move(h)) {}
  /// Any JSON value; the method validates it.
  static Knob json(std::string n, nlohmann::json d, std::string h) {
    Knob k(std::move(n), false, std::move(h));
    k.type = PETLAB_KNOB_JSON;
    k.default_value = std::move(d);
    return k;
  }
};
using KnobList = std::vector<Knob>;

inline const char* knob_type_name(petlab_knob_type_t type) {
  switch (type) {
    case PETLAB_KNOB_BOOL: return "bool";
    case PETLAB_KNOB_INT: return "int";
    case PETLAB_KNOB_FLOAT: return "float";
    case PETLAB_KNOB_STRING: return "string";
    case PETLAB_KNOB_STRING_LIST: return "string list";
    case PETLAB_KNOB_JSON: return "json";
  }
  return "unknown";
}

inline bool knob_value_fits(petlab_knob_type_t type, const nlohmann::json& v) {
  switch (type) {
    case PETLAB_KNOB_BOOL: return v.is_boolean();
    case PETLAB_KNOB_INT: return v.is_number_integer();
    case PETLAB_KNOB_FLOAT: return v.is_number();
    case PETLAB_KNOB_STRING: return v.is_string();
    case PETLAB_KNOB_STRING_LIST:
      if (v.is_string()) return true;  // a single target is a list of one
      if (!v.is_array()) return false;
      for (const auto& e : v)
        if (!e.is_string()) return false;
      return true;
    case PETLAB_KNOB_JSON: return true;
  }
  return false;
}

/// Knob values of one method instance: the declared defaults overlaid with what the user gave.
class Config {
 public:
  Config(const KnobList& knobs, const nlohmann::json& given) : values_(nlohmann::json::object()) {
    for (const auto& k : knobs) values_[k.name] = k.default_value;
    if (given.is_null()) return;
    if (!given.is_object()) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "method config must be a JSON object");
    for (const auto& [name, value] : given.items()) {
      const Knob* knob = find(knobs, name);
      if (knob == nullptr) {
        std::string valid;
        for (const auto& k : knobs) valid += (valid.empty() ? "" : ", ") + k.name;
        throw Error(PETLAB_ERR_INVALID_ARGUMENT, "unknown knob '" + name + "'; valid knobs: " +
                                                     (valid.empty() ? std::string("(none)") : valid));
      }
      if (!knob_value_fits(knob->type, value))
        throw Error(PETLAB_ERR_INVALID_ARGUMENT, "knob '" + name + "' expects " + knob_type_name(knob->type) +
                                                     ", got " + value.dump());
      values_[name] = value;
    }
  }

  bool get_bool(const std::string& name) const { return at(name).get<bool>(); }
  int64_t get_int(const std::string& name) const { return at(name).get<int64_t>(); }
  double get_float(const std::string& name) const { return at(name).get<double>(); }
  std::string get_string(const std::string& name) const { return at(name).get<std::string>(); }
  std::vector<std::string> get_strings(const std::string& name) const {
    const auto& v = at(name);
    if (v.is_string()) return {v.get<std::string>()};
    return v.get<std::vector<std::string>>();
  }
  const nlohmann::json& get_json(const std::string& name) const { return at(name); }
  const nlohmann::json& values() const { return values_; }

 private:
  static const Knob* find(const KnobList& knobs, const std::string& name) {
    for (const auto& k : knobs)
      if (k.name == name) return &k;
    return nullptr;
  }
  const nlohmann::json& at(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "the method reads undeclared knob '" + name + "'");
    return *it;
  }
  nlohmann::json values_;
};

// ------------------------------------------------------------------ the model as a method sees it

/// Whether a comma-separated tag list ("bias,attn,enc") holds `tag` as a whole word.
inline bool tag_list_contains(const std::string& tags, const std::string& tag) {
  size_t start = 0;
  while (start <= tags.size()) {
    size_t end = tags.find(',', start);
    if (end == std::string::npos) end = tags.size();
    if (tags.compare(start, end - start, tag) == 0) return true;
    start = end + 1;
  }
  return false;
}

struct Site {
  std::string name;
  petlab_site_kind_t kind;
  std::string stack;
  int layer;
  int64_t in_features, out_features, num_heads, head_dim;
  std::string weight, bias;
  /// BLOCK sites: the sublayer's own norm (parameter names, empty where absent), its epsilon and whether it
  /// follows the site ("post": BERT's norm(x + h)) or precedes the sublayer ("pre": T5 ran it on norm(x)).
  std::string norm_weight, norm_bias;
  double norm_eps = 0.0;
  std::string norm_position;
};

struct Param {
  std::string name;
  std::string tags;  // comma-separated
  std::string owner;
  int layer;
  bool trainable;
  at::Tensor tensor;  // shares storage with the host's parameter

  bool has_tag(const std::string& tag) const { return tag_list_contains(tags, tag); }
};

/// One hook invocation: a view of the host's context, valid for the duration of the call.
class HookCall {
 public:
  explicit HookCall(const petlab_hook_ctx_t* ctx) : ctx_(ctx) {}
  at::Tensor& slot(uint32_t index) const {
    if (index >= ctx_->slot_count) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "hook slot out of range");
    return tensor_ref(ctx_->slots[index]);
  }
  uint32_t slot_count() const { return ctx_->slot_count; }
  const char* site() const { return ctx_->site; }
  petlab_site_kind_t kind() const { return ctx_->kind; }
  int layer() const { return ctx_->layer; }
  bool training() const { return ctx_->training != 0; }
  int replica_count() const { return ctx_->replica_count; }

 private:
  const petlab_hook_ctx_t* ctx_;
};
using Hook = std::function<void(HookCall&)>;

/// The host's model during attach/merge: enumerate sites and parameters, add parameters and hooks.
class Model {
 public:
  Model(const petlab_host_t* host, petlab_model_t* model) : host_(host), model_(model) {
    api_ = static_cast<const petlab_host_model_v1_t*>(host->get_extension(host, PETLAB_HOST_MODEL_V1));
    if (api_ == nullptr) throw Error(PETLAB_ERR_VERSION, "host lacks extension " PETLAB_HOST_MODEL_V1);
    log_ = static_cast<const petlab_host_log_v1_t*>(host->get_extension(host, PETLAB_HOST_LOG_V1));
  }

  std::vector<Site> sites() const {
    std::vector<Site> out;
    const uint32_t n = api_->site_count(model_);
    for (uint32_t i = 0; i < n; ++i) {
      petlab_site_info_t info{};
      info.header = PETLAB_HEADER_INIT(petlab_site_info_t);
      petlab_error_t error{};
      check(api_->site_info(model_, i, &info, &error), error);
      Site site{info.name, info.kind, info.stack, info.layer, info.in_features, info.out_features,
                info.num_heads, info.head_dim, info.weight, info.bias};
      if (info.norm_position != nullptr) {  // a 1.0 host leaves the 1.1 fields zero
        site.norm_weight = info.norm_weight;
        site.norm_bias = info.norm_bias;
        site.norm_eps = info.norm_eps;
        site.norm_position = info.norm_position;
      }
      out.push_back(std::move(site));
    }
    return out;
  }

  /// Sites whose name matches any of the targets (see site_matches); an empty result is an error that
  /// lists what the model has, since a typo would otherwise silently tune nothing.
  std::vector<Site> sites(const std::vector<std::string>& targets) const {
    std::vector<Site> all = sites(), out;
    for (const auto& s : all)
      for (const auto& t : targets)
        if (site_matches(t, s.name)) {
          out.push_back(s);
          break;
        }
    if (out.empty()) {
      std::string names, wanted;
      for (size_t i = 0; i < all.size() && i < 24; ++i) names += (i ? ", " : "") + all[i].name;
      for (const auto& t : targets) wanted += (wanted.empty() ? "" : ", ") + t;
      throw Error(PETLAB_ERR_NOT_FOUND, "no site matches [" + wanted + "]; the model has: " + names +
                                            (all.size() > 24 ? ", ..." : ""));
    }
    return out;
  }

  /// Selected layers per stack ("enc", "dec"), each stack numbered from 0. Draw once per attach: a
  /// "random:N" selection takes new numbers from the (init-seeded) generator on every call.
  using LayerChoice = std::map<std::string, std::vector<int>>;
  LayerChoice choose_layers(const nlohmann::json& layers) const {
    std::map<std::string, int> depth;
    for (const auto& s : sites())
      if (s.layer >= 0) depth[s.stack] = std::max(depth[s.stack], s.layer + 1);
    LayerChoice chosen;
    for (const auto& [stack, count] : depth) {
      try {
        chosen[stack] = select_layers(layers, count);
      } catch (const std::invalid_argument& e) {
        throw Error(PETLAB_ERR_INVALID_ARGUMENT, e.what());
      }
    }
    return chosen;
  }
  /// Whether `layer` of `stack` is chosen; positions outside any layer (embed, layer -1) always are.
  static bool is_chosen(const LayerChoice& choice, const std::string& stack, int layer) {
    if (layer < 0) return true;
    auto it = choice.find(stack);
    return it != choice.end() && std::binary_search(it->second.begin(), it->second.end(), layer);
  }
  /// Sites matching the targets in the chosen layers.
  std::vector<Site> sites(const std::vector<std::string>& targets, const LayerChoice& choice) const {
    std::vector<Site> out;
    for (auto& s : sites(targets))
      if (is_chosen(choice, s.stack, s.layer)) out.push_back(std::move(s));
    return out;
  }

  std::vector<Param> parameters() const {
    std::vector<Param> out;
    const uint32_t n = api_->param_count(model_);
    for (uint32_t i = 0; i < n; ++i) {
      petlab_param_info_t info{};
      info.header = PETLAB_HEADER_INIT(petlab_param_info_t);
      petlab_error_t error{};
      check(api_->param_info(model_, i, &info, &error), error);
      out.push_back({info.name, info.tags, info.owner, info.layer, info.trainable != 0, tensor_ref(info.tensor)});
    }
    return out;
  }

  /// Registers a new trainable parameter "<method>/<name>" and returns the host's tensor (same storage).
  at::Tensor add_parameter(const std::string& name, const at::Tensor& value, const std::string& tags = "",
                           int layer = -1) {
    petlab_tensor_t* stored = nullptr;
    petlab_error_t error{};
    check(api_->create_parameter(model_, name.c_str(), tags.c_str(), layer, tensor_handle(value), &stored, &error),
          error);
    return tensor_ref(stored);
  }

  void set_trainable(const std::string& param_name, bool trainable) {
    petlab_error_t error{};
    check(api_->set_trainable(model_, param_name.c_str(), trainable ? 1 : 0, &error), error);
  }

  petlab_hook_id_t add_hook(const std::string& site, Hook hook) {
    auto* closure = new Hook(std::move(hook));
    petlab_hook_id_t id = 0;
    petlab_error_t error{};
    const petlab_status_t status =
        api_->add_hook(model_, site.c_str(), &Model::call_hook, closure, &Model::free_hook, &id, &error);
    if (status != PETLAB_OK) {
      delete closure;  // the host did not take it
      throw Error(status, error.message);
    }
    return id;
  }

  void remove_hook(petlab_hook_id_t id) {
    petlab_error_t error{};
    check(api_->remove_hook(model_, id, &error), error);
  }

  /// Claims `slot` of `site` for this method instance (see petlab_host_model_v1_t.claim). Claim every site you
  /// modify before hooking it: the host then refuses a second method that would modify it incompatibly.
  void claim(const std::string& site, const std::string& slot, bool exclusive = true) {
    if (!has(offsetof(petlab_host_model_v1_t, claim))) return;  // a 1.0 host does not arbitrate
    petlab_error_t error{};
    check(api_->claim(model_, site.c_str(), slot.c_str(), exclusive ? 1 : 0, &error), error);
  }

  /// Token ids of `text` as the backbone's tokenizer encodes one text, special tokens included (HF's tokenizer(text)).
  std::vector<int64_t> tokenize(const std::string& text) const {
    if (!has(offsetof(petlab_host_model_v1_t, tokenize)))
      throw Error(PETLAB_ERR_UNSUPPORTED, "this host (ABI 1.0) cannot tokenize");
    std::vector<int64_t> ids(64);
    for (;;) {
      uint32_t count = 0;
      petlab_error_t error{};
      check(api_->tokenize(model_, text.c_str(), ids.data(), static_cast<uint32_t>(ids.size()), &count, &error), error);
      if (count <= ids.size()) {
        ids.resize(count);
        return ids;
      }
      ids.resize(count);
    }
  }

  void log(petlab_log_level_t level, const std::string& message) const {
    if (log_ != nullptr) log_->log(log_->host_data, level, message.c_str());
  }

 private:
  static petlab_status_t call_hook(void* user_data, const petlab_hook_ctx_t* ctx, petlab_error_t* error) {
    return guard(error, [&] {
      HookCall call(ctx);
      (*static_cast<Hook*>(user_data))(call);
    });
  }
  static void free_hook(void* user_data) { delete static_cast<Hook*>(user_data); }
  /// Whether the host's table reaches the field at `offset` (fields after 1.0 are appended).
  bool has(size_t offset) const { return api_->header.struct_size > offset; }

  const petlab_host_t* host_;
  petlab_model_t* model_;
  const petlab_host_model_v1_t* api_ = nullptr;
  const petlab_host_log_v1_t* log_ = nullptr;
};

/// Base class of every method. merge()/unmerge() are offered when the class says `mergeable = true`.
class Method {
 public:
  static constexpr bool mergeable = false;
  virtual ~Method() = default;
  virtual void attach(Model& model) = 0;
  virtual void merge(Model&) { throw Error(PETLAB_ERR_UNSUPPORTED, "this method cannot merge"); }
  virtual void unmerge(Model&) { throw Error(PETLAB_ERR_UNSUPPORTED, "this method cannot unmerge"); }
  /// Called before saving: write training-time reparameterisations into the plain parameters a fresh attach
  /// with the returned knob overrides creates (prefix tuning's MLP → plain prefixes). Parameters tagged
  /// `transient` are never saved.
  virtual nlohmann::json fold(Model&) { return nlohmann::json::object(); }
};

// ------------------------------------------------------------------ descriptors and trampolines

namespace detail {

struct Instance {
  const petlab_host_t* host;
  std::unique_ptr<Method> method;
};

inline Instance* instance(petlab_method_t* m) { return reinterpret_cast<Instance*>(m); }

template <class M>
petlab_status_t create(const petlab_host_t* host, const char* config_json, petlab_method_t** out,
                       petlab_error_t* error) {
  return guard(error, [&] {
    if (host == nullptr || out == nullptr) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "null host or output");
    nlohmann::json given;
    if (config_json != nullptr && *config_json != '\0') {
      given = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
      if (given.is_discarded()) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "method config is not valid JSON");
    }
    const Config config(M::knobs(), given);
    auto inst = std::make_unique<Instance>(Instance{host, std::make_unique<M>(config)});
    *out = reinterpret_cast<petlab_method_t*>(inst.release());
  });
}

template <class Fn>
petlab_status_t with_model(petlab_method_t* method, petlab_model_t* model, petlab_error_t* error, Fn&& fn) {
  return guard(error, [&] {
    if (method == nullptr || model == nullptr) throw Error(PETLAB_ERR_INVALID_ARGUMENT, "null method or model");
    Model view(instance(method)->host, model);
    fn(*instance(method)->method, view);
  });
}

template <class M>
petlab_status_t attach(petlab_method_t* method, petlab_model_t* model, petlab_error_t* error) {
  return with_model(method, model, error, [](Method& m, Model& view) { m.attach(view); });
}
template <class M>
petlab_status_t merge(petlab_method_t* method, petlab_model_t* model, petlab_error_t* error) {
  return with_model(method, model, error, [](Method& m, Model& view) { m.merge(view); });
}
template <class M>
petlab_status_t unmerge(petlab_method_t* method, petlab_model_t* model, petlab_error_t* error) {
  return with_model(method, model, error, [](Method& m, Model& view) { m.unmerge(view); });
}
inline void destroy(petlab_method_t* method) noexcept { delete instance(method); }
inline petlab_status_t fold(petlab_method_t* method, petlab_model_t* model, char* overrides_json, size_t capacity,
                            petlab_error_t* error) {
  return with_model(method, model, error, [&](Method& m, Model& view) {
    const std::string text = m.fold(view).dump();
    if (overrides_json == nullptr || text.size() + 1 > capacity)
      throw Error(PETLAB_ERR_INVALID_ARGUMENT, "fold: the knob overrides do not fit the host's buffer");
    std::snprintf(overrides_json, capacity, "%s", text.c_str());
  });
}

/// The descriptor of method M and the strings it points to, built once in static storage.
template <class M>
class Descriptor {
 public:
  Descriptor() : knobs_(M::knobs()) {
    defaults_.reserve(knobs_.size());
    for (const auto& k : knobs_) defaults_.push_back(k.default_value.dump());
    for (size_t i = 0; i < knobs_.size(); ++i)
      knob_descs_.push_back({PETLAB_HEADER_INIT(petlab_knob_desc_t), knobs_[i].name.c_str(), knobs_[i].type,
                             defaults_[i].c_str(), knobs_[i].help.c_str()});
    desc_ = {PETLAB_HEADER_INIT(petlab_method_desc_t),
             M::id,
             M::version,
             M::summary,
             static_cast<uint32_t>(knob_descs_.size()),
             knob_descs_.data(),
             &create<M>,
             &attach<M>,
             M::mergeable ? &merge<M> : nullptr,
             M::mergeable ? &unmerge<M> : nullptr,
             &destroy,
             &fold};
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  const petlab_method_desc_t* get() const { return &desc_; }

 private:
  KnobList knobs_;
  std::vector<std::string> defaults_;
  std::vector<petlab_knob_desc_t> knob_descs_;
  petlab_method_desc_t desc_{};
};

template <class M>
const petlab_method_desc_t* describe() noexcept {
  try {
    static const Descriptor<M> descriptor;
    return descriptor.get();
  } catch (...) {
    return nullptr;  // the host reports a method whose descriptor could not be built
  }
}

template <class... Ms>
struct Plugin {
  static uint32_t count() { return sizeof...(Ms); }
  static const petlab_method_desc_t* at(uint32_t index) {
    using Fn = const petlab_method_desc_t* (*)() noexcept;
    static constexpr Fn table[] = {&describe<Ms>...};
    return index < sizeof...(Ms) ? table[index]() : nullptr;
  }
};

}  // namespace detail
}  // namespace petlab::sdk

/// Defines the plugin's single exported symbol. List every method class the library carries.
#define PETLAB_PLUGIN(NAME, VERSION, ...)                                                            \
  extern "C" PETLAB_EXPORT const petlab_entry_t petlab_entry = {                                     \
      PETLAB_HEADER_INIT(petlab_entry_t), PETLAB_BUILD_ID, NAME, VERSION,                            \
      &::petlab::sdk::detail::Plugin<__VA_ARGS__>::count, &::petlab::sdk::detail::Plugin<__VA_ARGS__>::at};
