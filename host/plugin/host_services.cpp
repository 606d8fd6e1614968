#include "plugin/host_services.hpp"

#include "core/error.hpp"
#include "core/version.hpp"

#include "tokenizer/tokenizer.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace petlab {
namespace {

ModelBinding& binding(petlab_model_t* model) { return *reinterpret_cast<ModelBinding*>(model); }

void write_error(petlab_error_t* error, const char* message) {
  if (error != nullptr) std::snprintf(error->message, PETLAB_ERROR_CAPACITY, "%s", message);
}

/// The host's half of the no-exceptions rule: every table function goes through here.
template <class Fn>
petlab_status_t guarded(petlab_error_t* error, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::exception& e) {
    write_error(error, e.what());
    return PETLAB_ERR_RUNTIME;
  } catch (...) {
    write_error(error, "unknown host error");
    return PETLAB_ERR_RUNTIME;
  }
}

petlab_status_t fail(petlab_error_t* error, petlab_status_t status, const std::string& message) {
  write_error(error, message.c_str());
  return status;
}

// Sizes of structs as ABI 1.0 defined them: a newer host serves older plugins.
constexpr uint32_t kSiteInfoV1_0 = offsetof(petlab_site_info_t, norm_weight);

uint32_t site_count(petlab_model_t* model) {
  return model == nullptr ? 0 : static_cast<uint32_t>(binding(model).surface->sites.size());
}

petlab_status_t site_info(petlab_model_t* model, uint32_t index, petlab_site_info_t* out, petlab_error_t* error) {
  return guarded(error, [&] {
    if (model == nullptr || out == nullptr) return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "null model or output");
    const auto& sites = binding(model).surface->sites;
    if (index >= sites.size()) return fail(error, PETLAB_ERR_NOT_FOUND, "site index out of range");
    const uint32_t size = out->header.struct_size;
    if (size < kSiteInfoV1_0)
      return fail(error, PETLAB_ERR_VERSION, "petlab_site_info_t is smaller than ABI 1.0's");
    const Site& s = sites.at(index);
    petlab_site_info_t info = {PETLAB_HEADER_INIT(petlab_site_info_t),
                               s.name.c_str(),
                               s.kind,
                               s.stack.c_str(),
                               s.layer,
                               s.in_features,
                               s.out_features,
                               s.num_heads,
                               s.head_dim,
                               s.weight.c_str(),
                               s.bias.c_str(),
                               s.norm_weight.c_str(),
                               s.norm_bias.c_str(),
                               s.norm_eps,
                               s.norm_position.c_str()};
    // A plugin built against an older minor version gets the fields it knows, its own size in the header.
    info.header.struct_size = std::min<uint32_t>(size, sizeof(info));
    std::memcpy(out, &info, info.header.struct_size);
    return PETLAB_OK;
  });
}

uint32_t param_count(petlab_model_t* model) {
  return model == nullptr ? 0 : static_cast<uint32_t>(binding(model).surface->params.all().size());
}

petlab_status_t param_info(petlab_model_t* model, uint32_t index, petlab_param_info_t* out, petlab_error_t* error) {
  return guarded(error, [&] {
    if (model == nullptr || out == nullptr) return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "null model or output");
    auto& params = binding(model).surface->params.all();
    if (index >= params.size()) return fail(error, PETLAB_ERR_NOT_FOUND, "parameter index out of range");
    if (out->header.struct_size < sizeof(petlab_param_info_t))
      return fail(error, PETLAB_ERR_VERSION, "petlab_param_info_t is smaller than ABI 1.0's");
    Parameter& p = params[index];
    *out = {PETLAB_HEADER_INIT(petlab_param_info_t),
            p.name.c_str(),
            p.tags.c_str(),
            p.owner.c_str(),
            p.layer,
            p.trainable() ? 1 : 0,
            reinterpret_cast<petlab_tensor_t*>(&p.tensor)};
    return PETLAB_OK;
  });
}

petlab_status_t create_parameter(petlab_model_t* model, const char* name, const char* tags, int32_t layer,
                                 const petlab_tensor_t* value, petlab_tensor_t** out, petlab_error_t* error) {
  return guarded(error, [&] {
    if (model == nullptr || name == nullptr || *name == '\0' || value == nullptr)
      return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "create_parameter needs a model, a name and a tensor");
    auto& b = binding(model);
    const auto& tensor = *reinterpret_cast<const at::Tensor*>(value);
    if (!tensor.defined()) return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "parameter tensor is undefined");
    const std::string full = b.method_id + "/" + name;
    if (b.surface->params.find(full) != nullptr)
      return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "parameter '" + full + "' already exists");
    // A parameter is a leaf of its own: detach from whatever graph built the initial value. It lives where the
    // backbone lives, so plugins may build initial values on the CPU.
    at::Tensor leaf = tensor.detach();
    if (!b.surface->params.all().empty()) leaf = leaf.to(b.surface->params.all().front().tensor.device());
    leaf.requires_grad_(true);
    Parameter& stored = b.surface->params.add({full, leaf, tags != nullptr ? tags : "", b.method_id, layer});
    if (out != nullptr) *out = reinterpret_cast<petlab_tensor_t*>(&stored.tensor);
    return PETLAB_OK;
  });
}

petlab_status_t set_trainable(petlab_model_t* model, const char* name, int32_t trainable, petlab_error_t* error) {
  return guarded(error, [&] {
    if (model == nullptr || name == nullptr) return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "null model or name");
    Parameter* p = binding(model).surface->params.find(name);
    if (p == nullptr) return fail(error, PETLAB_ERR_NOT_FOUND, std::string("no parameter named '") + name + "'");
    if (trainable != 0 && !p->tensor.is_floating_point())
      return fail(error, PETLAB_ERR_INVALID_ARGUMENT, std::string("parameter '") + name + "' is not floating point");
    p->tensor.requires_grad_(trainable != 0);
    return PETLAB_OK;
  });
}

petlab_status_t add_hook(petlab_model_t* model, const char* site, petlab_hook_fn fn, void* user_data,
                         petlab_free_fn free_user_data, petlab_hook_id_t* out, petlab_error_t* error) {
  return guarded(error, [&] {
    if (model == nullptr || site == nullptr || fn == nullptr)
      return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "add_hook needs a model, a site and a function");
    auto& b = binding(model);
    if (!b.surface->sites.find(site))
      return fail(error, PETLAB_ERR_NOT_FOUND, std::string("no site named '") + site + "'");
    const auto id = b.surface->sites.add_hook(site, fn, user_data, free_user_data, b.method_id, b.keepalive,
                                              hook_layout_for_abi_minor(b.abi_minor));
    if (out != nullptr) *out = id;
    return PETLAB_OK;
  });
}

petlab_status_t remove_hook(petlab_model_t* model, petlab_hook_id_t id, petlab_error_t* error) {
  return guarded(error, [&] {
    if (model == nullptr) return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "null model");
    if (!binding(model).surface->sites.remove_hook(id))
      return fail(error, PETLAB_ERR_NOT_FOUND, "no hook with id " + std::to_string(id));
    return PETLAB_OK;
  });
}

petlab_status_t claim(petlab_model_t* model, const char* site, const char* slot, int32_t exclusive,
                      petlab_error_t* error) {
  return guarded(error, [&] {
    if (model == nullptr || site == nullptr || slot == nullptr)
      return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "claim needs a model, a site and a slot");
    auto& b = binding(model);
    if (!b.surface->sites.find(site))
      return fail(error, PETLAB_ERR_NOT_FOUND, std::string("no site named '") + site + "'");
    b.surface->claims.claim(site, slot, exclusive != 0, b.method_id);
    return PETLAB_OK;
  });
}

petlab_status_t tokenize(petlab_model_t* model, const char* text, int64_t* ids, uint32_t capacity, uint32_t* count,
                         petlab_error_t* error) {
  return guarded(error, [&] {
    if (model == nullptr || text == nullptr || count == nullptr)
      return fail(error, PETLAB_ERR_INVALID_ARGUMENT, "tokenize needs a model, a text and a count");
    const tok::Tokenizer* tokenizer = binding(model).surface->tokenizer;
    if (tokenizer == nullptr)
      return fail(error, PETLAB_ERR_UNSUPPORTED, "no tokenizer is loaded for this model (the model folder has none)");
    const std::vector<int64_t> encoded = tokenizer->encode(text).ids;
    *count = static_cast<uint32_t>(encoded.size());
    if (ids != nullptr) std::copy_n(encoded.begin(), std::min<size_t>(capacity, encoded.size()), ids);
    return PETLAB_OK;
  });
}

const petlab_host_model_v1_t kModelV1 = {PETLAB_HEADER_INIT(petlab_host_model_v1_t),
                                         &site_count,
                                         &site_info,
                                         &param_count,
                                         &param_info,
                                         &create_parameter,
                                         &set_trainable,
                                         &add_hook,
                                         &remove_hook,
                                         &claim,
                                         &tokenize};

const void* get_extension(const petlab_host_t* host, const char* name) {
  if (host == nullptr || name == nullptr) return nullptr;
  if (std::strcmp(name, PETLAB_HOST_MODEL_V1) == 0) return &kModelV1;
  if (std::strcmp(name, PETLAB_HOST_LOG_V1) == 0) return host->host_data;
  return nullptr;
}

}  // namespace

petlab_host_t make_host_services(const petlab_host_log_v1_t* log) {
  return {PETLAB_HEADER_INIT(petlab_host_t), PETLAB_VERSION, &get_extension, const_cast<petlab_host_log_v1_t*>(log)};
}

}  // namespace petlab
