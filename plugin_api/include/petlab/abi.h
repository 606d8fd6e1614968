/* petlab method-plugin ABI, version 1.
 *
 * The boundary between the petlab host and a tuning-method plugin is plain C (an hourglass): a plugin
 * exports exactly one data symbol, `petlab_entry`, and everything else is reached through the function
 * pointers it and the host hand each other. Rules that keep the boundary stable:
 *
 *  - Every struct starts with a petlab_header_t: {abi major, abi minor, struct_size}. Minor versions only
 *    append fields, so a reader checks struct_size before touching a field added after 1.0. A different
 *    major version is refused outright.
 *  - Tensors cross as LibTorch objects behind the opaque petlab_tensor_t (an at::Tensor). The C ABI cannot
 *    hide LibTorch's own C++ ABI, so `build_id` names the LibTorch version, the libstdc++ dual-ABI flag and
 *    the compiler family; the host refuses a plugin whose build_id differs from its own.
 *  - No exception and no longjmp crosses the boundary. Every fallible call returns a petlab_status_t and
 *    writes a message into a caller-owned petlab_error_t. Each side frees what it allocated.
 *  - Host services come as versioned extension tables looked up by name ("petlab.host.model/1"), so the
 *    host can add services without breaking old plugins.
 *
 * This header compiles as C11 and as C++17 and includes nothing but <stdint.h> and <stddef.h>.
 */
#ifndef PETLAB_ABI_H
#define PETLAB_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PETLAB_ABI_MAJOR 1
#define PETLAB_ABI_MINOR 2

/* The one symbol a plugin exports. */
#define PETLAB_ENTRY_SYMBOL "petlab_entry"

/* Extension names (name/major). Look them up with petlab_host_t.get_extension. */
#define PETLAB_HOST_MODEL_V1 "petlab.host.model/1"
#define PETLAB_HOST_LOG_V1 "petlab.host.log/1"

#if defined(_WIN32)
#define PETLAB_EXPORT __declspec(dllexport)
#else
#define PETLAB_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------- common */

typedef struct petlab_header {
  uint16_t abi_major;
  uint16_t abi_minor;
  uint32_t struct_size; /* sizeof the full struct as the writer compiled it */
} petlab_header_t;

#define PETLAB_HEADER_INIT(type) {PETLAB_ABI_MAJOR, PETLAB_ABI_MINOR, (uint32_t)sizeof(type)}

typedef enum petlab_status {
  PETLAB_OK = 0,
  PETLAB_ERR_INVALID_ARGUMENT = 1, /* a bad knob, an unknown site, a wrong shape */
  PETLAB_ERR_NOT_FOUND = 2,        /* no such site, parameter or extension */
  PETLAB_ERR_UNSUPPORTED = 3,      /* the operation is not offered (e.g. merge on a method without it) */
  PETLAB_ERR_RUNTIME = 4,          /* anything else that went wrong, with a message */
  PETLAB_ERR_VERSION = 5           /* a struct or extension of an incompatible version */
} petlab_status_t;

/* Caller-owned error buffer: the callee writes a NUL-terminated message, truncating if needed. */
#define PETLAB_ERROR_CAPACITY 1024
typedef struct petlab_error {
  char message[PETLAB_ERROR_CAPACITY];
} petlab_error_t;

/* An at::Tensor owned by whoever created it; valid as long as the owner says. */
typedef struct petlab_tensor petlab_tensor_t;
/* The host's model as one attachment sees it; opaque to plugins. */
typedef struct petlab_model petlab_model_t;
/* A method instance; opaque to the host. */
typedef struct petlab_method petlab_method_t;

/* ---------------------------------------------------------------- sites */

/* The kinds of positions where a method can modify a hidden state (He et al.'s unified view). Each kind
 * fixes the tensor slots a hook on it receives (see petlab_hook_ctx_t.slots). */
typedef enum petlab_site_kind {
  /* `embed`. slots: [0] embeddings [B,T,H] (in/out), [1] attention mask [B,T] int64 (in/out). */
  PETLAB_SITE_EMBED = 0,
  /* `*.attn.{q,k,v,o}`, `*.ffn.{in,out}`... slots: [0] input x [...,in] (in), [1] output y [...,out] (in/out).
   * Since 1.2 the leading dimensions are [B,T] or, where the host skips padding, [N]: the batch's real tokens
   * only, so a hook on a LINEAR or ACTIVATION site must treat tokens independently (replica_count > 1 always
   * gets [B,T]). Hooks of plugins built against 1.0 or 1.1 always get [B,T]. */
  PETLAB_SITE_LINEAR = 1,
  /* `*.ffn.act`. slots: [0] activation output [...,F] (in/out), leading dimensions as for LINEAR. */
  PETLAB_SITE_ACTIVATION = 2,
  /* `*.attn.kv`. slots: [0] keys [B,heads,Tk,D] (in/out), [1] values [B,heads,Tk,D] (in/out),
   * [2] additive attention bias broadcastable to [B,heads,Tq,Tk] (in/out; extend it with the keys). */
  PETLAB_SITE_ATTENTION = 3,
  /* `*.attn.block`, `*.ffn.block`. slots: [0] sublayer input x [B,T,H] (in), [1] sublayer output h before
   * the residual [B,T,H] (in/out). */
  PETLAB_SITE_BLOCK = 4
} petlab_site_kind_t;

typedef struct petlab_site_info {
  petlab_header_t header;
  const char* name;  /* e.g. "enc.L3.attn.q"; valid while the model lives */
  petlab_site_kind_t kind;
  const char* stack; /* "enc", "dec" or "" for `embed` */
  int32_t layer;     /* layer index within the stack, -1 where none */
  /* Shapes; fields that do not apply to the kind are 0. */
  int64_t in_features;   /* LINEAR: input width; BLOCK, EMBED: hidden size */
  int64_t out_features;  /* LINEAR: output width; ACTIVATION: width; BLOCK, EMBED: hidden size */
  int64_t num_heads;     /* ATTENTION */
  int64_t head_dim;      /* ATTENTION */
  const char* weight;    /* LINEAR: name of the backbone weight [out,in] (for deltas and merges), else "" */
  const char* bias;      /* LINEAR: name of its bias, "" when the layer has none */
  /* Since 1.1. BLOCK: the backbone's own norm of this sublayer (parameter names, "" where absent), its epsilon and
   * where it sits: "post" (BERT: norm(x + h) follows the site) or "pre" (T5: the sublayer ran on norm(x)). */
  const char* norm_weight;
  const char* norm_bias;
  double norm_eps;
  const char* norm_position;
} petlab_site_info_t;

/* ---------------------------------------------------------------- parameters */

typedef struct petlab_param_info {
  petlab_header_t header;
  const char* name;       /* backbone names as in the checkpoint, method parameters as "<method>/<name>" */
  const char* tags;       /* comma-separated: bias, weight, norm, embedding, head, attn, ffn, enc, dec, ... */
  const char* owner;      /* "backbone", "head", or the id of the method that created it */
  int32_t layer;          /* -1 where none */
  int32_t trainable;      /* 1 when it will receive gradients */
  petlab_tensor_t* tensor;/* the parameter itself (an at::Tensor), owned by the host */
} petlab_param_info_t;

/* ---------------------------------------------------------------- hooks */

typedef struct petlab_hook_ctx {
  petlab_header_t header;
  const char* site;      /* the site this call is for */
  petlab_site_kind_t kind;
  int32_t layer;
  int32_t training;      /* 1 in training mode (dropout on), 0 in evaluation */
  /* Number of independent replicas stacked along the batch dimension (fused multi-seed runs): a method
   * with per-replica parameters applies replica r to rows [r*B/replicas, (r+1)*B/replicas). 1 today. */
  int32_t replica_count;
  uint32_t slot_count;
  petlab_tensor_t** slots; /* see petlab_site_kind_t; a hook may replace an in/out slot's tensor */
} petlab_hook_ctx_t;

typedef petlab_status_t (*petlab_hook_fn)(void* user_data, const petlab_hook_ctx_t* ctx, petlab_error_t* error);
/* Called by the host exactly once when the hook is removed or the model is destroyed. May be NULL. */
typedef void (*petlab_free_fn)(void* user_data);

typedef uint64_t petlab_hook_id_t;

/* ---------------------------------------------------------------- host services */

/* "petlab.host.model/1": what a method may do to a model. Sites and parameters are enumerated by index
 * (0..count-1); the info structs point into host memory valid while the model lives. */
typedef struct petlab_host_model_v1 {
  petlab_header_t header;
  uint32_t (*site_count)(petlab_model_t* model);
  petlab_status_t (*site_info)(petlab_model_t* model, uint32_t index, petlab_site_info_t* out, petlab_error_t* error);
  uint32_t (*param_count)(petlab_model_t* model);
  petlab_status_t (*param_info)(petlab_model_t* model, uint32_t index, petlab_param_info_t* out,
                                petlab_error_t* error);
  /* Registers `value` as a new trainable parameter named "<method>/<name>" (the host copies the tensor
   * handle, not the data). *out points at the host's stored tensor and stays valid while the model lives. */
  petlab_status_t (*create_parameter)(petlab_model_t* model, const char* name, const char* tags,
                                      int32_t layer, const petlab_tensor_t* value, petlab_tensor_t** out,
                                      petlab_error_t* error);
  petlab_status_t (*set_trainable)(petlab_model_t* model, const char* param_name, int32_t trainable,
                                   petlab_error_t* error);
  /* Installs fn on the named site. Hooks on one site run in installation order. */
  petlab_status_t (*add_hook)(petlab_model_t* model, const char* site, petlab_hook_fn fn, void* user_data,
                              petlab_free_fn free_user_data, petlab_hook_id_t* out, petlab_error_t* error);
  petlab_status_t (*remove_hook)(petlab_model_t* model, petlab_hook_id_t id, petlab_error_t* error);
  /* Since 1.1. Claims `slot` of `site` (e.g. "weight_delta", "prefix", "prepend") for the attaching method. Two
   * method instances claiming the same (site, slot) are refused, naming both, unless neither claim is exclusive. */
  petlab_status_t (*claim)(petlab_model_t* model, const char* site, const char* slot, int32_t exclusive,
                           petlab_error_t* error);
  /* Since 1.1. Token ids of `text` as the backbone's tokenizer encodes one text, special tokens included (what
   * HF's tokenizer(text) gives, e.g. PEFT's TEXT prompt initialisation). Writes at most
   * `capacity` ids and the full count to *count (call again with a larger buffer when it exceeds capacity).
   * PETLAB_ERR_UNSUPPORTED when the host has no tokenizer for this model. */
  petlab_status_t (*tokenize)(petlab_model_t* model, const char* text, int64_t* ids, uint32_t capacity,
                              uint32_t* count, petlab_error_t* error);
} petlab_host_model_v1_t;

typedef enum petlab_log_level {
  PETLAB_LOG_DEBUG = 0,
  PETLAB_LOG_INFO = 1,
  PETLAB_LOG_WARN = 2,
  PETLAB_LOG_ERROR = 3
} petlab_log_level_t;

/* "petlab.host.log/1": messages go to the host's log, tagged with the plugin's file. */
typedef struct petlab_host_log_v1 {
  petlab_header_t header;
  void (*log)(void* host_data, petlab_log_level_t level, const char* message);
  void* host_data;
} petlab_host_log_v1_t;

typedef struct petlab_host {
  petlab_header_t header;
  const char* host_version; /* petlab's version, e.g. "0.1.0" */
  /* Returns the extension table with that exact name ("name/major"), or NULL when the host lacks it. */
  const void* (*get_extension)(const struct petlab_host* host, const char* name);
  void* host_data;
} petlab_host_t;

/* ---------------------------------------------------------------- methods */

typedef enum petlab_knob_type {
  PETLAB_KNOB_BOOL = 0,
  PETLAB_KNOB_INT = 1,
  PETLAB_KNOB_FLOAT = 2,
  PETLAB_KNOB_STRING = 3,
  PETLAB_KNOB_STRING_LIST = 4,
  PETLAB_KNOB_JSON = 5 /* any JSON value; the method validates it (e.g. "0-5" or [0, 2, 4]) */
} petlab_knob_type_t;

typedef struct petlab_knob_desc {
  petlab_header_t header;
  const char* name;
  petlab_knob_type_t type;
  const char* default_json; /* the default as JSON text, e.g. "8", "\"attn.q\"", "[\"attn.q\",\"attn.v\"]" */
  const char* help;
} petlab_knob_desc_t;

typedef struct petlab_method_desc {
  petlab_header_t header;
  const char* id;      /* unique across all loaded plugins, e.g. "lora" */
  const char* version; /* the method's own version */
  const char* summary; /* one line */
  uint32_t knob_count;
  const petlab_knob_desc_t* knobs;

  /* Creates an instance from a JSON object of knob values (absent knobs take their defaults). */
  petlab_status_t (*create)(const petlab_host_t* host, const char* config_json, petlab_method_t** out,
                            petlab_error_t* error);
  /* Creates parameters, marks what trains and installs hooks. Called once per instance. */
  petlab_status_t (*attach)(petlab_method_t* method, petlab_model_t* model, petlab_error_t* error);
  /* Folds the method into the backbone weights and back; NULL when the method cannot merge. */
  petlab_status_t (*merge)(petlab_method_t* method, petlab_model_t* model, petlab_error_t* error);
  petlab_status_t (*unmerge)(petlab_method_t* method, petlab_model_t* model, petlab_error_t* error);
  void (*destroy)(petlab_method_t* method);
  /* Since 1.1; may be NULL. Called before saving: folds training-time reparameterisations into the plain
   * parameters a fresh attach would create with the knob overrides it writes into `overrides_json` (a JSON
   * object, at most `capacity` bytes with the NUL; "{}" when none). Parameters tagged `transient` are not saved. */
  petlab_status_t (*fold)(petlab_method_t* method, petlab_model_t* model, char* overrides_json, size_t capacity,
                          petlab_error_t* error);
} petlab_method_desc_t;

/* ---------------------------------------------------------------- entry */

typedef struct petlab_entry {
  petlab_header_t header;
  /* What the C ABI cannot hide, e.g. "torch=2.15.0;cxx11abi=1;compiler=gcc". Must equal the host's. */
  const char* build_id;
  const char* plugin_name;
  const char* plugin_version;
  uint32_t (*method_count)(void);
  /* Descriptors live in the plugin's static storage and stay valid while it is loaded. */
  const petlab_method_desc_t* (*method_at)(uint32_t index);
} petlab_entry_t;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PETLAB_ABI_H */
