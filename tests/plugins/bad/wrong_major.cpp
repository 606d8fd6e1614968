// Refused: declares ABI major 99.
#include <petlab/abi.h>
#include <petlab/build_id.hpp>

static uint32_t no_methods(void) { return 0; }
static const petlab_method_desc_t* none(uint32_t) { return nullptr; }

extern "C" PETLAB_EXPORT const petlab_entry_t petlab_entry = {
    {99, 0, sizeof(petlab_entry_t)}, PETLAB_BUILD_ID, "wrong-major", "0", &no_methods, &none};
