#pragma once
// Reading rows of an open dataset without HDF5's per-read machinery (hyperslab selection,
// type-conversion path, chunk cache), where the storage allows it. Streaming reads every
// block once, on a prefetch thread that shares the cores with the compute; through H5Dread
// each 200 KiB chunk cost about 0.1 ms of CPU besides the copy out of the page cache. Two
// ways, chosen once per dataset:
//   chunks:     unfiltered chunks that span whole rows: H5Dread_chunk, straight into the
//               caller's buffer when a chunk lies inside the read and is float32;
//   contiguous: unfiltered contiguous storage in a file opened with the default (sec2)
//               driver: pread at the dataset's offset in the file.
// Stored float32 is copied as is; stored integers are converted with a C cast, which is
// what HDF5's own integer-to-float conversion does. Anything else (filters, float64 and
// other types, big-endian data, virtual/external/compact layouts, chunks split across
// columns) is read by HDF5 as before. Only src/io/hdf5.cpp and this file's .cpp include
// <hdf5.h>.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace dptrain::detail {

class DirectRows {
 public:
  // nullptr when the dataset must be read through H5Dread. `file` and `dataset` are HDF5
  // identifiers, which must stay open while this is used.
  static std::unique_ptr<DirectRows> open(std::int64_t file, std::int64_t dataset);

  // Rows [begin, begin + count) into `out` (count * cols values; the caller has checked the
  // range and the size). False when this read must go through H5Dread instead: a chunk that
  // was never written (HDF5 supplies the fill value), chunks much larger than the read
  // (HDF5's chunk cache serves them better), or a failed read (H5Dread names the problem).
  // Not thread-safe: one reader per thread.
  bool read(std::int64_t begin, std::int64_t count, std::span<float> out);

  // "chunks" or "contiguous".
  const char* kind() const { return chunk_rows_ > 0 ? "chunks" : "contiguous"; }

  enum class Stored { Float32, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64 };

 private:
  DirectRows() = default;
  bool read_chunks(std::int64_t begin, std::int64_t count, std::span<float> out);
  bool read_contiguous(std::int64_t begin, std::int64_t count, std::span<float> out);
  // Rows of `from` (stored values) converted to float into `to`.
  void convert(const unsigned char* from, std::int64_t values, float* to) const;

  std::int64_t dataset_ = -1;
  int rank_ = 0;
  Stored stored_ = Stored::Float32;
  std::int64_t value_bytes_ = 4;
  std::int64_t rows_ = 0, cols_ = 1;
  std::int64_t chunk_rows_ = 0;  // 0: contiguous
  std::int64_t offset_ = 0;      // contiguous: the data's first byte in the file
  int fd_ = -1;                  // contiguous: the file, as HDF5's sec2 driver holds it
  std::vector<unsigned char> scratch_;
};

}  // namespace dptrain::detail
