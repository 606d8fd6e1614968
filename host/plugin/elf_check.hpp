// Checks a plugin file's ELF structure before dlopen sees it. The dynamic loader maps segments past the
// end of a truncated file without complaint, and the first touch of such a page kills the process with
// SIGBUS; reading the headers ourselves turns that into a clear refusal.
#pragma once

#include <filesystem>

namespace petlab {

/// Throws petlab::Error naming the file and the problem: not ELF, another class, byte order or machine,
/// not a shared object, or headers/segments that reach past the end of the file.
void check_elf_shared_object(const std::filesystem::path& file);

}  // namespace petlab
