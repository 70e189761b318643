// IDX (the MNIST / Fashion-MNIST format): big-endian magic 0x000008TT (TT = dimension count,
// type 08 = unsigned byte), then the dimensions as big-endian uint32, then the data.
// zlib's gz* functions read gzip-compressed and plain files alike.
#include <zlib.h>

#include <vector>

#include "dptrain/convert.hpp"
#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {
namespace {

struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<unsigned char> data;
};

IdxArray read_idx(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw DataError(path + ": cannot open IDX file");
  auto read_exact = [&](void* buf, std::size_t n, const char* what) {
    const int got = gzread(f, buf, static_cast<unsigned>(n));
    if (got < 0 || static_cast<std::size_t>(got) != n) {
      gzclose(f);
      throw DataError(path + ": truncated IDX file (while reading " + what + ")");
    }
  };
  unsigned char magic[4];
  read_exact(magic, 4, "the magic number");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4) {
    gzclose(f);
    throw DataError(path + ": not an unsigned-byte IDX file (magic number 0x0000 08 0N expected)");
  }
  IdxArray a;
  std::int64_t total = 1;
  for (int i = 0; i < magic[3]; ++i) {
    unsigned char b[4];
    read_exact(b, 4, "the dimensions");
    const std::int64_t dim = (std::int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    a.dims.push_back(dim);
    total *= dim;
  }
  a.data.resize(static_cast<std::size_t>(total));
  read_exact(a.data.data(), a.data.size(), "the data");
  gzclose(f);
  return a;
}

}  // namespace

std::int64_t convert_idx(const ConvertOptions& o) {
  if (o.input.empty() || o.labels.empty() || o.out.empty())
    throw ConfigError("convert --from idx needs --input IMAGES, --labels LABELS and --out FILE.h5");
  const IdxArray images = read_idx(o.input);
  const IdxArray labels = read_idx(o.labels);
  if (labels.dims.size() != 1)
    throw DataError(o.labels + ": expected a 1-D IDX label file; it has " +
                    std::to_string(labels.dims.size()) + " dimensions");
  const std::int64_t rows = images.dims[0];
  if (labels.dims[0] != rows)
    throw DataError(o.labels + ": has " + std::to_string(labels.dims[0]) + " labels but " +
                    o.input + " has " + std::to_string(rows) + " images; expected the same count");
  const std::int64_t cols = rows ? static_cast<std::int64_t>(images.data.size()) / rows : 0;
  std::vector<float> features(images.data.size());
  for (std::size_t i = 0; i < features.size(); ++i) features[i] = images.data[i] / 255.0f;
  std::vector<std::int64_t> ids(labels.data.begin(), labels.data.end());
  write_file_atomically(o.out, [&](H5Writer& w) {
    H5Writer::Layout layout{o.chunk_rows, o.gzip, o.gzip > 0};
    if (layout.gzip_level > 0 && layout.chunk_rows <= 0) layout.chunk_rows = 1024;
    w.write("/features", {rows, cols}, features.data(), layout);
    w.write("/labels", {rows}, ids.data(), layout);
    w.set_attribute("/features", "source", o.input);
    w.set_attribute("/features", "scaling", "pixel / 255");
    w.set_attribute("/labels", "source", o.labels);
  });
  return rows;
}

}  // namespace dptrain
