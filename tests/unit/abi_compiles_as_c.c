/* abi.h is the C boundary: it must compile as pedantic C11 and its structs must open with the header. */
#include <petlab/abi.h>

#include <stddef.h>

_Static_assert(offsetof(petlab_entry_t, header) == 0, "entry starts with its header");
_Static_assert(offsetof(petlab_method_desc_t, header) == 0, "method descriptor starts with its header");
_Static_assert(offsetof(petlab_knob_desc_t, header) == 0, "knob descriptor starts with its header");
_Static_assert(offsetof(petlab_site_info_t, header) == 0, "site info starts with its header");
_Static_assert(offsetof(petlab_param_info_t, header) == 0, "param info starts with its header");
_Static_assert(offsetof(petlab_hook_ctx_t, header) == 0, "hook context starts with its header");
_Static_assert(offsetof(petlab_host_t, header) == 0, "host table starts with its header");
_Static_assert(offsetof(petlab_host_model_v1_t, header) == 0, "model extension starts with its header");
_Static_assert(sizeof(petlab_header_t) == 8, "header is {u16 major, u16 minor, u32 size}");

int main(void) {
  petlab_entry_t entry = {PETLAB_HEADER_INIT(petlab_entry_t), "id", "name", "1", NULL, NULL};
  petlab_error_t error = {{0}};
  return (entry.header.abi_major == PETLAB_ABI_MAJOR && entry.header.struct_size == sizeof(entry) &&
          error.message[0] == '\0')
             ? 0
             : 1;
}
