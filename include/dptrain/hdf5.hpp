#pragma once
// Checked, RAII wrappers over the HDF5 C API (src/io/hdf5.cpp, and src/io/hdf5_direct.cpp for
// H5RowReader's direct reads, are the only files that include <hdf5.h>). Every failure is a DataError naming the file and the dataset.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dptrain {

struct DatasetShape {
  enum class Kind { Float, Integer, Other };
  std::vector<std::int64_t> dims;
  Kind kind = Kind::Other;
  std::string type_name;  // e.g. "float32", "int64", "string", "compound"
  std::vector<std::int64_t> chunk;  // empty when contiguous
  std::string filters;              // e.g. "shuffle,deflate(4)"; empty when none
  std::string missing_filter;       // a filter this HDF5 library cannot decode, e.g. "lzf"
  // A virtual dataset's source file that does not exist (HDF5 would read its rows as the
  // fill value, zeros, without an error); empty when none is missing or not virtual.
  std::string missing_source;
  std::int64_t rows() const { return dims.empty() ? 0 : dims[0]; }
  std::int64_t cols() const {
    std::int64_t c = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) c *= dims[i];
    return c;
  }
};

class H5RowReader;
namespace detail {
class DirectRows;
}

// A file opened read-only, without file locking (many ranks open it at once).
class H5Reader {
 public:
  explicit H5Reader(const std::string& path);
  ~H5Reader();
  H5Reader(const H5Reader&) = delete;
  H5Reader& operator=(const H5Reader&) = delete;

  const std::string& path() const { return path_; }
  bool has_dataset(const std::string& name) const;
  // A group (e.g. an anndata CSR matrix: data, indices, indptr) at `name`.
  bool has_group(const std::string& name) const;
  DatasetShape shape(const std::string& name) const;
  // All dataset paths in the file (recursively), e.g. "/train/X".
  std::vector<std::string> list_datasets() const;

  // Rows [begin, begin + count) of a 1-D or N-D numeric dataset, converted by HDF5 to the
  // requested type, written row-major into `out`. Reads only that hyperslab from disk.
  // `out` must hold exactly count * cols values, cols being the product of the dataset's
  // dimensions after the first; otherwise (a dataset with more dimensions or columns than
  // the caller sized for, e.g. a damaged checkpoint or a file replaced since it was
  // described) it throws DataError naming the shape, and never writes past `out`.
  void read_rows(const std::string& name, std::int64_t begin, std::int64_t count,
                 std::span<float> out) const;
  void read_rows(const std::string& name, std::int64_t begin, std::int64_t count,
                 std::span<double> out) const;
  void read_rows(const std::string& name, std::int64_t begin, std::int64_t count,
                 std::span<std::int64_t> out) const;
  void read_rows(const std::string& name, std::int64_t begin, std::int64_t count,
                 std::span<std::int32_t> out) const;

  // Attributes of an object ("/" for the file, or a dataset path).
  bool has_attribute(const std::string& object, const std::string& key) const;
  std::string attribute_string(const std::string& object, const std::string& key) const;
  // A 1-D string-array attribute as its strings; a scalar string attribute as one string
  // (then *scalar is set true).
  std::vector<std::string> attribute_strings(const std::string& object, const std::string& key,
                                             bool* scalar = nullptr) const;
  // Whether the attribute holds strings (scalar or array).
  bool attribute_is_string(const std::string& object, const std::string& key) const;
  std::vector<std::int64_t> attribute_ints(const std::string& object, const std::string& key) const;
  // One unsigned 64-bit value; a signed attribute (older files) is read as its bit pattern.
  std::uint64_t attribute_u64(const std::string& object, const std::string& key) const;
  double attribute_double(const std::string& object, const std::string& key) const;

  // Opens dataset `name` once for many row reads, with a chunk cache of `cache_bytes`
  // (streaming: a chunk decompressed once serves every read that falls inside it).
  H5RowReader open_rows(const std::string& name, std::size_t cache_bytes) const;

 private:
  std::string path_;
  std::int64_t file_;
};

// One dataset kept open (see H5Reader::open_rows); read_rows as H5Reader's. The file must
// stay open while it is used. HDF5 here is built thread-safe, so a prefetch thread may read
// while the main thread writes a checkpoint; one H5RowReader is used by one thread at a time.
// Unfiltered float32 or integer data is read past H5Dread where the layout allows
// (src/io/hdf5_direct.hpp): whole chunks with H5Dread_chunk, contiguous rows with pread.
class H5RowReader {
 public:
  H5RowReader(std::string path, std::string name, std::int64_t file, std::int64_t dataset);
  ~H5RowReader();
  H5RowReader(H5RowReader&& other) noexcept;
  H5RowReader(const H5RowReader&) = delete;
  H5RowReader& operator=(const H5RowReader&) = delete;
  H5RowReader& operator=(H5RowReader&&) = delete;
  void read_rows(std::int64_t begin, std::int64_t count, std::span<float> out) const;
  // How read_rows reads: "chunks" (H5Dread_chunk), "contiguous" (pread) or "hdf5" (H5Dread).
  const char* read_path() const;

 private:
  std::string path_, name_;
  std::int64_t dataset_;
  std::unique_ptr<detail::DirectRows> direct_;
};

// How a written dataset is stored.
struct H5Layout {
  std::int64_t chunk_rows = 0;  // 0: contiguous
  int gzip_level = 0;           // 0: no compression (needs chunk_rows > 0)
  bool shuffle = false;
};

// Creates (truncates) a file for writing. Errors name `name_in_messages` (default: `path`;
// an atomic write names the user's file, not its temporary one) and the system's reason.
class H5Writer {
 public:
  explicit H5Writer(const std::string& path, const std::string& name_in_messages = "");
  ~H5Writer();
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  using Layout = H5Layout;
  void write(const std::string& name, const std::vector<std::int64_t>& dims, const float* data,
             Layout layout = {});
  void write(const std::string& name, const std::vector<std::int64_t>& dims, const double* data,
             Layout layout = {});
  void write(const std::string& name, const std::vector<std::int64_t>& dims,
             const std::int32_t* data, Layout layout = {});
  void write(const std::string& name, const std::vector<std::int64_t>& dims,
             const std::int64_t* data, Layout layout = {});

  // A dataset of `cols` columns grown by appending rows (chunked), for streaming writers.
  void create_growing(const std::string& name, std::int64_t cols, bool integer, Layout layout);
  void append_rows(const std::string& name, std::int64_t rows, const float* data);
  void append_rows(const std::string& name, std::int64_t rows, const std::int64_t* data);

  void set_attribute(const std::string& object, const std::string& key, const std::string& value);
  void set_attribute(const std::string& object, const std::string& key,
                     const std::vector<std::int64_t>& value);
  void set_attribute(const std::string& object, const std::string& key, double value);
  // A 1-D array of variable-length UTF-8 strings (h5py reads a numpy object array of str).
  void set_string_array(const std::string& object, const std::string& key,
                        const std::vector<std::string>& values);
  // One unsigned 64-bit value (a checksum: h5py reads it as a non-negative numpy.uint64).
  void set_attribute_u64(const std::string& object, const std::string& key, std::uint64_t value);

  // Flushes and closes the file; errors are reported here rather than lost in a destructor.
  void close();

 private:
  std::string path_;
  std::int64_t file_;
};

// Writes a file atomically: `write` fills a temporary file in the same folder, which is
// then flushed to disk (fsync) and renamed over `path`, and the folder is synced, so a crash
// at any moment leaves either the old file or the new one.
void write_file_atomically(const std::string& path, const std::function<void(H5Writer&)>& write);

}  // namespace dptrain
