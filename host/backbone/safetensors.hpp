// Memory-mapped safetensors files: tensors are views of the mapping (no copy until a dtype or device
// change), and every malformed file is refused with the tensor and byte range at fault.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace petlab {

class MappedFile;

/// One safetensors file. Tensors returned by get() keep the mapping alive.
class SafetensorsFile {
 public:
  /// Maps and validates `file`: header length within the file, JSON header, every tensor's dtype known,
  /// its byte range inside the data section and matching its shape.
  explicit SafetensorsFile(const std::filesystem::path& file);

  const std::filesystem::path& path() const { return path_; }
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  /// A CPU tensor viewing the mapping (read-only by convention: copy before writing).
  at::Tensor get(const std::string& name) const;
  /// The dtype string as stored ("F32", "BF16", ...).
  const std::string& dtype_name(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Entry {
    std::string dtype;
    std::vector<int64_t> shape;
    size_t begin, end;  // offsets into the data section
  };
  std::filesystem::path path_;
  std::shared_ptr<MappedFile> map_;
  size_t data_offset_ = 0;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

/// Writes tensors (contiguous CPU copies are made as needed) with keys in sorted order and a stable
/// header, so the same tensors always give the same bytes. The file is written atomically.
void write_safetensors(const std::filesystem::path& file, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace petlab
