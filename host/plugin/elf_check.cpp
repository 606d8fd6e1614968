#include "plugin/elf_check.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <elf.h>

#include <cstring>
#include <fstream>

namespace petlab {
namespace {

template <class T>
bool read_at(std::ifstream& in, uint64_t offset, T* out) {
  in.seekg(static_cast<std::streamoff>(offset));
  return static_cast<bool>(in.read(reinterpret_cast<char*>(out), sizeof(T)));
}

}  // namespace

void check_elf_shared_object(const std::filesystem::path& file) {
  const std::string name = "'" + file.string() + "'";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("plugin {} cannot be opened", name));
  const uint64_t size = std::filesystem::file_size(file);

  Elf64_Ehdr eh{};
  if (!read_at(in, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    throw Error(fmt::format("plugin {} cannot be loaded as a shared library: not an ELF file", name));
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    throw Error(fmt::format("plugin {} cannot be loaded as a shared library: not a 64-bit little-endian ELF file",
                            name));
#if defined(__x86_64__)
  constexpr uint16_t kMachine = EM_X86_64;
#elif defined(__aarch64__)
  constexpr uint16_t kMachine = EM_AARCH64;
#else
  const uint16_t kMachine = eh.e_machine;
#endif
  if (eh.e_machine != kMachine)
    throw Error(fmt::format("plugin {} cannot be loaded as a shared library: built for ELF machine {}, this host is {}",
                            name, eh.e_machine, kMachine));
  if (eh.e_type != ET_DYN)
    throw Error(fmt::format("plugin {} cannot be loaded as a shared library: ELF type {} is not a shared object",
                            name, eh.e_type));

  const uint64_t ph_end = eh.e_phoff + uint64_t(eh.e_phnum) * eh.e_phentsize;
  const uint64_t sh_end = eh.e_shoff + uint64_t(eh.e_shnum) * eh.e_shentsize;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || ph_end > size || sh_end > size)
    throw Error(fmt::format("plugin {} cannot be loaded as a shared library: truncated or corrupt ({} bytes, but its "
                            "headers reach byte {})",
                            name, size, std::max(ph_end, sh_end)));
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (!read_at(in, eh.e_phoff + uint64_t(i) * sizeof(Elf64_Phdr), &ph))
      throw Error(fmt::format("plugin {}: cannot read program header {}", name, i));
    if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > size)
      throw Error(fmt::format("plugin {} cannot be loaded as a shared library: truncated ({} bytes, but segment {} "
                              "reaches byte {})",
                              name, size, i, ph.p_offset + ph.p_filesz));
  }
}

}  // namespace petlab
