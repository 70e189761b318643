// .npz as numpy.savez writes it: a zip archive (stored, not compressed) of one .npy file per
// tensor. .npy version 1.0: magic, a Python-dict header padded to 64 bytes, raw values.
#include <zlib.h>

#include "dptrain/error.hpp"
#include "dptrain/model_export.hpp"
#include "io/little_endian.hpp"

namespace dptrain {
namespace {

std::string npy_bytes(const ExportTensor& t) {
  std::string shape;
  for (const std::int64_t d : t.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  if (t.shape.size() == 1) shape += ",";  // (3,) is a tuple, (3) is not
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  const std::size_t fixed = 10;  // magic (6), version (2), header length (2)
  header.append(63 - (fixed + header.size()) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  append_le<std::uint16_t>(out, static_cast<std::uint16_t>(header.size()));
  out += header;
  append_floats(out, t.values);
  return out;
}

struct ZipEntry {
  std::string name;
  std::uint32_t crc = 0, size = 0, offset = 0;
};

// The fields a local header and a central directory entry share: version needed, flags,
// method (0: stored), time, date, CRC-32, sizes, name length.
void append_common(std::string& out, const ZipEntry& e) {
  append_le<std::uint16_t>(out, 20);
  append_le<std::uint16_t>(out, 0);
  append_le<std::uint16_t>(out, 0);
  append_le<std::uint16_t>(out, 0);
  append_le<std::uint16_t>(out, 0x21);  // 1980-01-01
  append_le<std::uint32_t>(out, e.crc);
  append_le<std::uint32_t>(out, e.size);
  append_le<std::uint32_t>(out, e.size);
  append_le<std::uint16_t>(out, static_cast<std::uint16_t>(e.name.size()));
  append_le<std::uint16_t>(out, 0);  // extra field length
}

}  // namespace

std::string npz_bytes(const std::vector<ExportTensor>& tensors) {
  std::string out;
  std::vector<ZipEntry> entries;
  for (const ExportTensor& t : tensors) {
    const std::string npy = npy_bytes(t);
    ZipEntry e{t.name + ".npy", 0, static_cast<std::uint32_t>(npy.size()), static_cast<std::uint32_t>(out.size())};
    e.crc = static_cast<std::uint32_t>(
        crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(npy.data()), static_cast<uInt>(npy.size())));
    append_le<std::uint32_t>(out, 0x04034b50);
    append_common(out, e);
    out += e.name + npy;
    entries.push_back(e);
  }
  const std::size_t directory = out.size();
  if (directory > 0xFFFF0000u)
    throw DataError("the model is too large for .npz without zip64 (over 4 GiB); export it as safetensors");
  for (const ZipEntry& e : entries) {
    append_le<std::uint32_t>(out, 0x02014b50);
    append_le<std::uint16_t>(out, 20);  // version made by
    append_common(out, e);
    append_le<std::uint16_t>(out, 0);  // comment length
    append_le<std::uint16_t>(out, 0);  // disk
    append_le<std::uint16_t>(out, 0);  // internal attributes
    append_le<std::uint32_t>(out, 0);  // external attributes
    append_le<std::uint32_t>(out, e.offset);
    out += e.name;
  }
  const std::size_t directory_size = out.size() - directory;
  append_le<std::uint32_t>(out, 0x06054b50);
  append_le<std::uint16_t>(out, 0);
  append_le<std::uint16_t>(out, 0);
  append_le<std::uint16_t>(out, static_cast<std::uint16_t>(entries.size()));
  append_le<std::uint16_t>(out, static_cast<std::uint16_t>(entries.size()));
  append_le<std::uint32_t>(out, static_cast<std::uint32_t>(directory_size));
  append_le<std::uint32_t>(out, static_cast<std::uint32_t>(directory));
  append_le<std::uint16_t>(out, 0);
  return out;
}

}  // namespace dptrain
