#include "backbone/safetensors.hpp"

#include "core/error.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace petlab {

class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& file) {
    fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(fmt::format("cannot open '{}': {}", file.string(), std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw Error(fmt::format("cannot stat '{}'", file.string()));
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (data_ == MAP_FAILED) throw Error(fmt::format("cannot map '{}': {}", file.string(), std::strerror(errno)));
    }
  }
  ~MappedFile() {
    if (data_ != nullptr && data_ != MAP_FAILED) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(data_); }
  size_t size() const { return size_; }

 private:
  int fd_ = -1;
  void* data_ = nullptr;
  size_t size_ = 0;
};

namespace {

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
  size_t bytes;
};
constexpr DtypeInfo kDtypes[] = {
    {"F64", at::kDouble, 8}, {"F32", at::kFloat, 4}, {"F16", at::kHalf, 2},  {"BF16", at::kBFloat16, 2},
    {"I64", at::kLong, 8},   {"I32", at::kInt, 4},   {"I16", at::kShort, 2}, {"I8", at::kChar, 1},
    {"U8", at::kByte, 1},    {"BOOL", at::kBool, 1},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}
const DtypeInfo* find_dtype(at::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return &d;
  return nullptr;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::filesystem::path& file) : path_(file) {
  const std::string where = "'" + file.string() + "'";
  map_ = std::make_shared<MappedFile>(file);
  const size_t size = map_->size();
  if (size < 8) throw Error(fmt::format("safetensors file {} is truncated: {} bytes, no header length", where, size));
  uint64_t header_len = 0;
  std::memcpy(&header_len, map_->data(), 8);  // little-endian on every platform LibTorch supports
  if (header_len > size - 8)
    throw Error(fmt::format("safetensors file {} is corrupt: header length {} reaches past the end of the file ({} "
                            "bytes)",
                            where, header_len, size));
  data_offset_ = 8 + header_len;
  const char* header_begin = reinterpret_cast<const char*>(map_->data() + 8);
  const auto header = nlohmann::json::parse(header_begin, header_begin + header_len, nullptr, false);
  if (header.is_discarded() || !header.is_object())
    throw Error(fmt::format("safetensors file {} has a header that is not a JSON object", where));

  const size_t data_size = size - data_offset_;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (info.is_object())
        for (const auto& [k, v] : info.items())
          if (v.is_string()) metadata_[k] = v.get<std::string>();
      continue;
    }
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
      throw Error(fmt::format("safetensors file {}: tensor '{}' lacks dtype, shape or data_offsets", where, name));
    Entry e;
    e.dtype = info["dtype"].get<std::string>();
    const DtypeInfo* dt = find_dtype(e.dtype);
    if (dt == nullptr)
      throw Error(fmt::format("safetensors file {}: tensor '{}' has dtype {}, which petlab does not support (supported: "
                              "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)",
                              where, name, e.dtype));
    e.shape = info["shape"].get<std::vector<int64_t>>();
    const auto offsets = info["data_offsets"].get<std::vector<uint64_t>>();
    if (offsets.size() != 2 || offsets[0] > offsets[1])
      throw Error(fmt::format("safetensors file {}: tensor '{}' has malformed data_offsets", where, name));
    e.begin = offsets[0];
    e.end = offsets[1];
    int64_t numel = 1;
    for (auto d : e.shape) numel *= d;
    if (e.end - e.begin != static_cast<uint64_t>(numel) * dt->bytes)
      throw Error(fmt::format("safetensors file {}: tensor '{}' holds {} bytes but shape {} of {} needs {}", where,
                              name, e.end - e.begin, nlohmann::json(e.shape).dump(), e.dtype, numel * dt->bytes));
    if (e.end > data_size)
      throw Error(fmt::format("safetensors file {} is truncated: tensor '{}' ends at byte {} of the data section, which "
                              "has {} bytes",
                              where, name, e.end, data_size));
    entries_.emplace(name, std::move(e));
  }
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

const std::string& SafetensorsFile::dtype_name(const std::string& name) const { return entries_.at(name).dtype; }

at::Tensor SafetensorsFile::get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw Error(fmt::format("'{}' has no tensor '{}'", path_.string(), name));
  const Entry& e = it->second;
  const DtypeInfo* dt = find_dtype(e.dtype);
  auto* ptr = const_cast<uint8_t*>(map_->data() + data_offset_ + e.begin);
  auto keep = map_;
  // The deleter owns a reference to the mapping: the view stays valid as long as any tensor uses it.
  return at::from_blob(ptr, e.shape, [keep](void*) mutable { keep.reset(); }, at::TensorOptions().dtype(dt->type));
}

void write_safetensors(const std::filesystem::path& file, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> blobs;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const DtypeInfo* dt = find_dtype(t.scalar_type());
    if (dt == nullptr) throw Error(fmt::format("cannot write tensor '{}': unsupported dtype", name));
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dt->bytes;
    header[name] = {{"dtype", dt->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    blobs.push_back(t);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // align the data section to 8 bytes, as the format suggests
  const uint64_t len = text.size();

  const auto tmp = std::filesystem::path(file.string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("cannot write '{}'", tmp.string()));
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : blobs)
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    if (!out) throw Error(fmt::format("failed writing '{}'", tmp.string()));
  }
  std::filesystem::rename(tmp, file);
}

}  // namespace petlab
