// Refused: claims to be built against another LibTorch.
#include <petlab/abi.h>

static uint32_t no_methods(void) { return 0; }
static const petlab_method_desc_t* none(uint32_t) { return nullptr; }

extern "C" PETLAB_EXPORT const petlab_entry_t petlab_entry = {
    PETLAB_HEADER_INIT(petlab_entry_t), "torch=1.13.1;cxx11abi=0;compiler=gcc", "wrong-build", "0", &no_methods,
    &none};
