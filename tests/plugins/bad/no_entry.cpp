// Refused: a perfectly good shared library that is not a petlab plugin.
extern "C" __attribute__((visibility("default"))) int not_a_petlab_plugin(void) { return 42; }
