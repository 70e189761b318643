// The only file that includes <hdf5.h>.
#include "dptrain/hdf5.hpp"

#include "io/atomic_file.hpp"
#include "io/hdf5_direct.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "dptrain/error.hpp"

namespace dptrain {
namespace {

// HDF5 prints its own error stack by default; our exceptions say it better, once. And HDF5
// 1.10's exit handler closes files again that failed to close (a full disk) and crashes
// (SIGSEGV in H5F__close_cb after the error was reported); every file here is closed by
// RAII, so the handler is not needed. H5dont_atexit must be the first HDF5 call.
struct SilenceHdf5 {
  SilenceHdf5() {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
};
void silence() { static SilenceHdf5 once; }

// Closes an HDF5 identifier with the matching H5*close.
class Handle {
 public:
  Handle(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
  ~Handle() {
    if (id_ >= 0) closer_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*closer_)(hid_t);
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// Why the last HDF5 call failed, from the errno its file driver recorded on the error stack
// ("... errno = 28, error message = 'No space left on device' ..."), e.g.
// ": No space left on device (ENOSPC)"; empty when the stack holds no system error.
std::string failure_cause() {
  int found = 0;
  auto visit = [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
    const char* at = e->desc ? std::strstr(e->desc, "errno = ") : nullptr;
    if (at && *static_cast<int*>(data) == 0) *static_cast<int*>(data) = std::atoi(at + 8);
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, visit, &found);
  return found ? ": " + errno_text(found) : std::string();
}

std::string type_name(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  switch (cls) {
    case H5T_FLOAT:
      return "float" + std::to_string(8 * size);
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") +
             std::to_string(8 * size);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    default:
      return "opaque";
  }
}

hid_t open_object(hid_t file, const std::string& path, const std::string& object) {
  hid_t obj = H5Oopen(file, object.c_str(), H5P_DEFAULT);
  if (obj < 0) throw DataError(path + ": no object " + quoted(object));
  return obj;
}

template <class T>
hid_t native_type();
template <>
hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <>
hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <>
hid_t native_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <>
hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

template <class T>
void read_open_rows(const std::string& path, hid_t dset, const std::string& name,
                    std::int64_t begin, std::int64_t count, std::span<T> out);

template <class T>
void read_rows_impl(const std::string& path, hid_t file, const std::string& name,
                    std::int64_t begin, std::int64_t count, std::span<T> out) {
  Handle dset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset) throw DataError(path + ": no dataset " + quoted(name));
  read_open_rows(path, dset.get(), name, begin, count, out);
}

template <class T>
void read_open_rows(const std::string& path, hid_t dset, const std::string& name,
                    std::int64_t begin, std::int64_t count, std::span<T> out) {
  Handle space(H5Dget_space(dset), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 1) throw DataError(path + ": dataset " + quoted(name) + " is a scalar, expected rows");
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (begin < 0 || count < 0 || static_cast<hsize_t>(begin + count) > dims[0])
    throw DataError(path + ": dataset " + quoted(name) + " has " + std::to_string(dims[0]) +
                    " rows; cannot read rows " + std::to_string(begin) + ".." +
                    std::to_string(begin + count));
  if (count == 0) return;
  hsize_t cols = 1;
  for (int i = 1; i < rank; ++i) cols *= dims[i];
  if (cols * static_cast<hsize_t>(count) != out.size())
    throw DataError(path + ": dataset " + quoted(name) + " has shape " + shape_text(dims) + ", " +
                    std::to_string(cols) + " value(s) per row; expected " +
                    std::to_string(out.size() / static_cast<std::size_t>(count)) + " per row");
  std::vector<hsize_t> start(rank, 0), extent(dims);
  start[0] = static_cast<hsize_t>(begin);
  extent[0] = static_cast<hsize_t>(count);
  if (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(),
                          nullptr) < 0)
    throw DataError(path + ": cannot select rows of " + quoted(name));
  Handle memspace(H5Screate_simple(rank, extent.data(), nullptr), H5Sclose);
  if (H5Dread(dset, native_type<T>(), memspace.get(), space.get(), H5P_DEFAULT, out.data()) < 0)
    throw DataError(path + ": reading rows " + std::to_string(begin) + ".." +
                    std::to_string(begin + count) + " of dataset " + quoted(name) +
                    " failed (file truncated or corrupt, or a filter is unavailable)");
}

// The first source file of a virtual dataset that cannot be found where HDF5 looks for it
// (HDF5_VDS_PREFIX, the virtual file's folder, the working folder), or "".
std::string missing_virtual_source(const std::string& path, hid_t dcpl) {
  namespace fs = std::filesystem;
  std::size_t count = 0;
  if (H5Pget_virtual_count(dcpl, &count) < 0) return "";
  for (std::size_t i = 0; i < count; ++i) {
    const ssize_t length = H5Pget_virtual_filename(dcpl, i, nullptr, 0);
    if (length <= 0) continue;
    std::string name(static_cast<std::size_t>(length) + 1, '\0');
    H5Pget_virtual_filename(dcpl, i, name.data(), name.size());
    name.resize(static_cast<std::size_t>(length));
    if (name == ".") continue;  // the virtual file itself
    std::vector<fs::path> candidates = {fs::path(name)};
    if (fs::path(name).is_relative()) {
      candidates.push_back(fs::path(path).parent_path() / name);
      if (const char* prefix = std::getenv("HDF5_VDS_PREFIX")) candidates.push_back(fs::path(prefix) / name);
    }
    bool found = false;
    for (const auto& candidate : candidates) found = found || fs::exists(candidate);
    if (!found) return name;
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------- H5Reader

H5Reader::H5Reader(const std::string& path) : path_(path), file_(-1) {
  silence();
  if (!std::filesystem::exists(path)) throw DataError(path + ": no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw DataError(path + ": not an HDF5 file (or truncated/corrupt)");
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_file_locking(fapl.get(), false, true);
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (file_ < 0) throw DataError(path + ": cannot open as HDF5 (truncated or corrupt?)");
}

H5Reader::~H5Reader() {
  if (file_ >= 0) H5Fclose(file_);
}

bool H5Reader::has_dataset(const std::string& name) const {
  // H5Lexists fails on a missing intermediate group, so walk the path one link at a time.
  std::string prefix;
  std::size_t pos = 0;
  while (pos <= name.size()) {
    std::size_t next = name.find('/', pos);
    if (next == std::string::npos) next = name.size();
    const std::string part = name.substr(pos, next - pos);
    pos = next + 1;
    if (part.empty()) continue;
    prefix += "/" + part;
    if (H5Lexists(file_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  H5O_info_t info;
  if (H5Oget_info_by_name(file_, name.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_DATASET;
}

bool H5Reader::has_group(const std::string& name) const {
  if (name.empty() || H5Lexists(file_, name.c_str(), H5P_DEFAULT) <= 0) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name(file_, name.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_GROUP;
}

DatasetShape H5Reader::shape(const std::string& name) const {
  if (!has_dataset(name)) throw DataError(path_ + ": no dataset " + quoted(name));
  Handle dset(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset) throw DataError(path_ + ": cannot open dataset " + quoted(name));
  DatasetShape s;
  Handle space(H5Dget_space(dset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  for (auto d : dims) s.dims.push_back(static_cast<std::int64_t>(d));
  Handle type(H5Dget_type(dset.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  s.kind = cls == H5T_FLOAT     ? DatasetShape::Kind::Float
           : cls == H5T_INTEGER ? DatasetShape::Kind::Integer
                                : DatasetShape::Kind::Other;
  s.type_name = type_name(type.get());
  Handle dcpl(H5Dget_create_plist(dset.get()), H5Pclose);
  if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED && rank > 0) {
    std::vector<hsize_t> chunk(rank);
    H5Pget_chunk(dcpl.get(), rank, chunk.data());
    for (auto c : chunk) s.chunk.push_back(static_cast<std::int64_t>(c));
  }
  if (H5Pget_layout(dcpl.get()) == H5D_VIRTUAL) s.missing_source = missing_virtual_source(path_, dcpl.get());
  const int nfilters = H5Pget_nfilters(dcpl.get());
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0, values[8];
    std::size_t nvalues = 8;
    char fname[64] = {0};
    const H5Z_filter_t id =
        H5Pget_filter2(dcpl.get(), i, &flags, &nvalues, values, sizeof fname, fname, nullptr);
    if (!s.filters.empty()) s.filters += ",";
    if (id == H5Z_FILTER_DEFLATE)
      s.filters += "deflate(" + std::to_string(nvalues ? values[0] : 0) + ")";
    else if (id == H5Z_FILTER_SHUFFLE)
      s.filters += "shuffle";
    else
      s.filters += fname[0] ? fname : ("filter" + std::to_string(id));
    // e.g. h5py's lzf, or a plugin filter that is not installed here.
    if (H5Zfilter_avail(id) <= 0 && s.missing_filter.empty())
      s.missing_filter = id == 32000 ? "lzf" : fname[0] ? fname : "filter " + std::to_string(id);
  }
  return s;
}

std::vector<std::string> H5Reader::list_datasets() const {
  std::vector<std::string> out;
  auto visit = [](hid_t, const char* name, const H5O_info_t* info, void* data) -> herr_t {
    if (info->type == H5O_TYPE_DATASET)
      static_cast<std::vector<std::string>*>(data)->push_back(std::string("/") + name);
    return 0;
  };
  H5Ovisit(file_, H5_INDEX_NAME, H5_ITER_INC, visit, &out);
  return out;
}

void H5Reader::read_rows(const std::string& name, std::int64_t begin, std::int64_t count,
                         std::span<float> out) const {
  read_rows_impl(path_, file_, name, begin, count, out);
}
void H5Reader::read_rows(const std::string& name, std::int64_t begin, std::int64_t count,
                         std::span<double> out) const {
  read_rows_impl(path_, file_, name, begin, count, out);
}
void H5Reader::read_rows(const std::string& name, std::int64_t begin, std::int64_t count,
                         std::span<std::int64_t> out) const {
  read_rows_impl(path_, file_, name, begin, count, out);
}
void H5Reader::read_rows(const std::string& name, std::int64_t begin, std::int64_t count,
                         std::span<std::int32_t> out) const {
  read_rows_impl(path_, file_, name, begin, count, out);
}

bool H5Reader::has_attribute(const std::string& object, const std::string& key) const {
  if (object != "/" && H5Lexists(file_, object.c_str(), H5P_DEFAULT) <= 0) return false;
  return H5Aexists_by_name(file_, object.c_str(), key.c_str(), H5P_DEFAULT) > 0;
}

std::string H5Reader::attribute_string(const std::string& object, const std::string& key) const {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle attr(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) throw DataError(path_ + ": " + quoted(object) + " has no attribute " + quoted(key));
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw DataError(path_ + ": attribute " + quoted(key) + " is not a string");
  if (H5Tis_variable_str(type.get()) > 0) {
    char* value = nullptr;
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));  // ASCII and UTF-8 do not convert
    if (H5Aread(attr.get(), mem.get(), &value) < 0)
      throw DataError(path_ + ": attribute " + quoted(key) + " cannot be read as a string");
    std::string out = value ? value : "";
    H5free_memory(value);
    return out;
  }
  const std::size_t size = H5Tget_size(type.get());
  std::string out(size, '\0');
  H5Aread(attr.get(), type.get(), out.data());
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

bool H5Reader::attribute_is_string(const std::string& object, const std::string& key) const {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle attr(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) return false;
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  return H5Tget_class(type.get()) == H5T_STRING;
}

std::vector<std::string> H5Reader::attribute_strings(const std::string& object, const std::string& key,
                                                     bool* scalar) const {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle attr(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) throw DataError(path_ + ": " + quoted(object) + " has no attribute " + quoted(key));
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw DataError(path_ + ": attribute " + quoted(key) + " is not a string");
  const bool one = H5Sget_simple_extent_type(space.get()) == H5S_SCALAR;
  if (scalar) *scalar = one;
  if (one) return {attribute_string(object, key)};
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (H5Sget_simple_extent_ndims(space.get()) != 1 || n < 0)
    throw DataError(path_ + ": attribute " + quoted(key) + " is not a 1-D array of strings");
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> values(static_cast<std::size_t>(n), nullptr);
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    if (n > 0 && H5Aread(attr.get(), mem.get(), values.data()) < 0)
      throw DataError(path_ + ": attribute " + quoted(key) + " cannot be read as strings");
    for (char* v : values) out.emplace_back(v ? v : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, values.data());
    return out;
  }
  const std::size_t size = H5Tget_size(type.get());
  std::string all(size * static_cast<std::size_t>(n), '\0');
  if (n > 0 && H5Aread(attr.get(), type.get(), all.data()) < 0)
    throw DataError(path_ + ": attribute " + quoted(key) + " cannot be read as strings");
  for (hssize_t i = 0; i < n; ++i) {
    std::string v = all.substr(static_cast<std::size_t>(i) * size, size);
    while (!v.empty() && v.back() == '\0') v.pop_back();
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<std::int64_t> H5Reader::attribute_ints(const std::string& object,
                                                   const std::string& key) const {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle attr(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) throw DataError(path_ + ": " + quoted(object) + " has no attribute " + quoted(key));
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  if (n > 0 && H5Aread(attr.get(), H5T_NATIVE_INT64, out.data()) < 0)
    throw DataError(path_ + ": attribute " + quoted(key) + " is not integer");
  return out;
}

std::uint64_t H5Reader::attribute_u64(const std::string& object, const std::string& key) const {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle attr(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) throw DataError(path_ + ": " + quoted(object) + " has no attribute " + quoted(key));
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 8 ||
      H5Sget_simple_extent_npoints(space.get()) != 1)
    throw DataError(path_ + ": attribute " + quoted(key) + " is not one 64-bit integer");
  // Read the bits as stored: converting a negative int64 to uint64 would clamp it to 0.
  std::uint64_t value = 0;
  const hid_t memory = H5Tget_sign(type.get()) == H5T_SGN_NONE ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
  if (H5Aread(attr.get(), memory, &value) < 0) throw DataError(path_ + ": attribute " + quoted(key) + " cannot be read");
  return value;
}

double H5Reader::attribute_double(const std::string& object, const std::string& key) const {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle attr(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) throw DataError(path_ + ": " + quoted(object) + " has no attribute " + quoted(key));
  double value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    throw DataError(path_ + ": attribute " + quoted(key) + " is not numeric");
  return value;
}

H5RowReader H5Reader::open_rows(const std::string& name, std::size_t cache_bytes) const {
  Handle dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
  // A prime slot count well above the chunks the cache can hold keeps hash collisions rare.
  H5Pset_chunk_cache(dapl.get(), 10007, cache_bytes, 1.0);
  const hid_t dset = H5Dopen2(file_, name.c_str(), dapl.get());
  if (dset < 0) throw DataError(path_ + ": no dataset " + quoted(name));
  return H5RowReader(path_, name, file_, dset);
}

H5RowReader::H5RowReader(std::string path, std::string name, std::int64_t file, std::int64_t dataset)
    : path_(std::move(path)), name_(std::move(name)), dataset_(dataset),
      direct_(detail::DirectRows::open(file, dataset)) {}

H5RowReader::H5RowReader(H5RowReader&& other) noexcept
    : path_(std::move(other.path_)), name_(std::move(other.name_)), dataset_(other.dataset_),
      direct_(std::move(other.direct_)) {
  other.dataset_ = -1;
}

H5RowReader::~H5RowReader() {
  if (dataset_ >= 0) H5Dclose(dataset_);
}

void H5RowReader::read_rows(std::int64_t begin, std::int64_t count, std::span<float> out) const {
  // A read the direct path declines (or fails) goes through H5Dread, which checks the range
  // and the shape and names the problem.
  if (direct_ && direct_->read(begin, count, out)) return;
  read_open_rows(path_, dataset_, name_, begin, count, out);
}

const char* H5RowReader::read_path() const { return direct_ ? direct_->kind() : "hdf5"; }

// ---------------------------------------------------------------- H5Writer

H5Writer::H5Writer(const std::string& path, const std::string& name_in_messages)
    : path_(name_in_messages.empty() ? path : name_in_messages), file_(-1) {
  silence();
  file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file_ < 0) throw DataError(path_ + ": cannot create the HDF5 file" + failure_cause());
}

H5Writer::~H5Writer() {
  if (file_ >= 0) H5Fclose(file_);
}

namespace {

// Creates intermediate groups for paths such as "/train/X".
hid_t link_creation_plist() {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  return lcpl;
}

hid_t dataset_creation_plist(int rank, const hsize_t* dims, const H5Writer::Layout& layout) {
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (layout.chunk_rows > 0) {
    std::vector<hsize_t> chunk(dims, dims + rank);
    chunk[0] = static_cast<hsize_t>(layout.chunk_rows);
    H5Pset_chunk(dcpl, rank, chunk.data());
    if (layout.shuffle) H5Pset_shuffle(dcpl);
    if (layout.gzip_level > 0) H5Pset_deflate(dcpl, static_cast<unsigned>(layout.gzip_level));
  }
  return dcpl;
}

template <class T>
void write_impl(const std::string& path, hid_t file, const std::string& name,
                const std::vector<std::int64_t>& dims64, const T* data, H5Writer::Layout layout) {
  std::vector<hsize_t> dims(dims64.begin(), dims64.end());
  if (layout.chunk_rows > 0 && !dims.empty())
    layout.chunk_rows = std::max<std::int64_t>(1, std::min<std::int64_t>(layout.chunk_rows, dims64[0]));
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle lcpl(link_creation_plist(), H5Pclose);
  Handle dcpl(dataset_creation_plist(static_cast<int>(dims.size()), dims.data(), layout), H5Pclose);
  Handle dset(H5Dcreate2(file, name.c_str(), native_type<T>(), space.get(), lcpl.get(), dcpl.get(),
                         H5P_DEFAULT),
              H5Dclose);
  if (!dset) throw DataError(path + ": cannot create dataset " + quoted(name) + failure_cause());
  if (H5Dwrite(dset.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    throw DataError(path + ": cannot write dataset " + quoted(name) + failure_cause());
}

template <class T>
void append_impl(const std::string& path, hid_t file, const std::string& name, std::int64_t rows,
                 const T* data) {
  Handle dset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset) throw DataError(path + ": no dataset " + quoted(name));
  Handle space(H5Dget_space(dset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  const hsize_t old_rows = dims[0];
  dims[0] += static_cast<hsize_t>(rows);
  if (H5Dset_extent(dset.get(), dims.data()) < 0)
    throw DataError(path + ": cannot extend dataset " + quoted(name));
  Handle file_space(H5Dget_space(dset.get()), H5Sclose);
  std::vector<hsize_t> start(rank, 0), count(dims);
  start[0] = old_rows;
  count[0] = static_cast<hsize_t>(rows);
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Handle mem(H5Screate_simple(rank, count.data(), nullptr), H5Sclose);
  if (H5Dwrite(dset.get(), native_type<T>(), mem.get(), file_space.get(), H5P_DEFAULT, data) < 0)
    throw DataError(path + ": cannot append to dataset " + quoted(name) + failure_cause());
}

}  // namespace

void H5Writer::write(const std::string& n, const std::vector<std::int64_t>& d, const float* p,
                     Layout l) {
  write_impl(path_, file_, n, d, p, l);
}
void H5Writer::write(const std::string& n, const std::vector<std::int64_t>& d, const double* p,
                     Layout l) {
  write_impl(path_, file_, n, d, p, l);
}
void H5Writer::write(const std::string& n, const std::vector<std::int64_t>& d,
                     const std::int32_t* p, Layout l) {
  write_impl(path_, file_, n, d, p, l);
}
void H5Writer::write(const std::string& n, const std::vector<std::int64_t>& d,
                     const std::int64_t* p, Layout l) {
  write_impl(path_, file_, n, d, p, l);
}

void H5Writer::create_growing(const std::string& name, std::int64_t cols, bool integer,
                              Layout layout) {
  const int rank = cols > 0 ? 2 : 1;
  hsize_t dims[2] = {0, static_cast<hsize_t>(cols)};
  hsize_t maxdims[2] = {H5S_UNLIMITED, static_cast<hsize_t>(cols)};
  if (layout.chunk_rows <= 0) layout.chunk_rows = 4096;
  Handle space(H5Screate_simple(rank, dims, maxdims), H5Sclose);
  Handle lcpl(link_creation_plist(), H5Pclose);
  Handle dcpl(dataset_creation_plist(rank, dims, layout), H5Pclose);
  Handle dset(H5Dcreate2(file_, name.c_str(), integer ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT,
                         space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
              H5Dclose);
  if (!dset) throw DataError(path_ + ": cannot create dataset " + quoted(name) + failure_cause());
}

void H5Writer::append_rows(const std::string& name, std::int64_t rows, const float* data) {
  append_impl(path_, file_, name, rows, data);
}
void H5Writer::append_rows(const std::string& name, std::int64_t rows, const std::int64_t* data) {
  append_impl(path_, file_, name, rows, data);
}

void H5Writer::set_attribute(const std::string& object, const std::string& key,
                             const std::string& value) {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  // Variable-length UTF-8: h5py reads it as str (a fixed-length ASCII string reads as bytes).
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj.get(), key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  const char* text = value.c_str();
  if (!attr || H5Awrite(attr.get(), type.get(), &text) < 0)
    throw DataError(path_ + ": cannot write attribute " + quoted(key));
}

void H5Writer::set_string_array(const std::string& object, const std::string& key,
                                const std::vector<std::string>& values) {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle attr(H5Acreate2(obj.get(), key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  if (!attr || (n > 0 && H5Awrite(attr.get(), type.get(), texts.data()) < 0))
    throw DataError(path_ + ": cannot write attribute " + quoted(key));
}

void H5Writer::set_attribute_u64(const std::string& object, const std::string& key, std::uint64_t value) {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj.get(), key.c_str(), H5T_STD_U64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr || H5Awrite(attr.get(), H5T_NATIVE_UINT64, &value) < 0)
    throw DataError(path_ + ": cannot write attribute " + quoted(key));
}

void H5Writer::set_attribute(const std::string& object, const std::string& key,
                             const std::vector<std::int64_t>& value) {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  hsize_t n = value.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle attr(H5Acreate2(obj.get(), key.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT,
                         H5P_DEFAULT),
              H5Aclose);
  if (!attr || H5Awrite(attr.get(), H5T_NATIVE_INT64, value.data()) < 0)
    throw DataError(path_ + ": cannot write attribute " + quoted(key));
}

void H5Writer::set_attribute(const std::string& object, const std::string& key, double value) {
  Handle obj(open_object(file_, path_, object), H5Oclose);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj.get(), key.c_str(), H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT,
                         H5P_DEFAULT),
              H5Aclose);
  if (!attr || H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    throw DataError(path_ + ": cannot write attribute " + quoted(key));
}

void H5Writer::close() {
  if (file_ < 0) return;
  const herr_t flushed = H5Fflush(file_, H5F_SCOPE_GLOBAL);
  std::string cause = flushed < 0 ? failure_cause() : std::string();
  const herr_t closed = H5Fclose(file_);
  if (closed < 0 && cause.empty()) cause = failure_cause();
  file_ = -1;
  if (flushed < 0 || closed < 0) throw DataError(path_ + ": writing the HDF5 file failed" + cause);
}

void write_file_atomically(const std::string& path, const std::function<void(H5Writer&)>& write) {
  replace_file_atomically(path, [&](const std::string& temp) {
    H5Writer writer(temp, path);  // messages name the user's file, not the hidden temporary one
    write(writer);
    writer.close();
  });
}

}  // namespace dptrain
