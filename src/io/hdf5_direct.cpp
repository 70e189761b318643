#include "io/hdf5_direct.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

namespace dptrain::detail {
namespace {

// Closes an HDF5 identifier when it goes out of scope.
struct Closer {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Closer() {
    if (id >= 0) close(id);
  }
};

// The stored types copied or converted here (little-endian, no padding bits), or false.
bool stored_type(hid_t type, DirectRows::Stored& out, std::int64_t& bytes) {
  using S = DirectRows::Stored;
  const std::pair<hid_t, S> known[] = {
      {H5T_IEEE_F32LE, S::Float32}, {H5T_STD_I8LE, S::Int8},   {H5T_STD_I16LE, S::Int16},
      {H5T_STD_I32LE, S::Int32},    {H5T_STD_I64LE, S::Int64}, {H5T_STD_U8LE, S::Uint8},
      {H5T_STD_U16LE, S::Uint16},   {H5T_STD_U32LE, S::Uint32}, {H5T_STD_U64LE, S::Uint64}};
  for (const auto& [id, stored] : known)
    if (H5Tequal(type, id) > 0) {
      out = stored;
      bytes = static_cast<std::int64_t>(H5Tget_size(id));
      return true;
    }
  return false;
}

template <class T>
void cast_values(const unsigned char* from, std::int64_t values, float* to) {
  for (std::int64_t i = 0; i < values; ++i) {
    T v;
    std::memcpy(&v, from + i * static_cast<std::int64_t>(sizeof(T)), sizeof(T));
    to[i] = static_cast<float>(v);
  }
}

}  // namespace

std::unique_ptr<DirectRows> DirectRows::open(std::int64_t file, std::int64_t dataset) {
  if constexpr (std::endian::native != std::endian::little) return nullptr;
  std::unique_ptr<DirectRows> d(new DirectRows());
  d->dataset_ = dataset;
  Closer type{H5Dget_type(dataset), H5Tclose};
  if (type.id < 0 || !stored_type(type.id, d->stored_, d->value_bytes_)) return nullptr;
  Closer space{H5Dget_space(dataset), H5Sclose};
  d->rank_ = H5Sget_simple_extent_ndims(space.id);
  if (d->rank_ < 1) return nullptr;
  std::vector<hsize_t> dims(static_cast<std::size_t>(d->rank_));
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  d->rows_ = static_cast<std::int64_t>(dims[0]);
  for (int i = 1; i < d->rank_; ++i) d->cols_ *= static_cast<std::int64_t>(dims[static_cast<std::size_t>(i)]);
  Closer dcpl{H5Dget_create_plist(dataset), H5Pclose};
  if (dcpl.id < 0 || H5Pget_nfilters(dcpl.id) != 0) return nullptr;
  const H5D_layout_t layout = H5Pget_layout(dcpl.id);
  if (layout == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(dims.size());
    if (H5Pget_chunk(dcpl.id, d->rank_, chunk.data()) != d->rank_) return nullptr;
    for (std::size_t i = 1; i < dims.size(); ++i)
      if (chunk[i] != dims[i]) return nullptr;  // a row spans several chunks
    d->chunk_rows_ = static_cast<std::int64_t>(chunk[0]);
    return d->chunk_rows_ > 0 ? std::move(d) : nullptr;
  }
  if (layout != H5D_CONTIGUOUS || H5Pget_external_count(dcpl.id) != 0) return nullptr;
  const haddr_t offset = H5Dget_offset(dataset);  // from the beginning of the file
  if (offset == HADDR_UNDEF ||
      H5Dget_storage_size(dataset) < static_cast<hsize_t>(d->rows_ * d->cols_ * d->value_bytes_))
    return nullptr;
  Closer fapl{H5Fget_access_plist(file), H5Pclose};
  void* handle = nullptr;
  if (fapl.id < 0 || H5Pget_driver(fapl.id) != H5FD_SEC2 || H5Fget_vfd_handle(file, fapl.id, &handle) < 0 ||
      !handle)
    return nullptr;
  d->fd_ = *static_cast<int*>(handle);
  d->offset_ = static_cast<std::int64_t>(offset);
  return d;
}

bool DirectRows::read(std::int64_t begin, std::int64_t count, std::span<float> out) {
  if (begin < 0 || count <= 0 || begin + count > rows_ || static_cast<std::int64_t>(out.size()) != count * cols_)
    return false;
  return chunk_rows_ > 0 ? read_chunks(begin, count, out) : read_contiguous(begin, count, out);
}

bool DirectRows::read_chunks(std::int64_t begin, std::int64_t count, std::span<float> out) {
  const std::int64_t end = begin + count, first = begin / chunk_rows_, last = (end - 1) / chunk_rows_;
  const std::int64_t row_bytes = cols_ * value_bytes_, chunk_bytes = chunk_rows_ * row_bytes;
  // Reading whole chunks of which little is needed (labels chunked far more coarsely than
  // the blocks): HDF5's chunk cache keeps such a chunk for the next reads.
  if ((last - first + 1) * chunk_bytes > 2 * count * row_bytes + (std::int64_t{64} << 10)) return false;
  std::vector<hsize_t> at(static_cast<std::size_t>(rank_), 0);
  for (std::int64_t k = first; k <= last; ++k) {
    const std::int64_t c0 = k * chunk_rows_, lo = std::max(begin, c0), hi = std::min(end, c0 + chunk_rows_);
    at[0] = static_cast<hsize_t>(c0);
    // The chunk's size as the file records it: H5Dread_chunk writes that many bytes. (A
    // B-tree lookup; H5Dget_chunk_info_by_coord would walk every chunk of the dataset.)
    hsize_t stored = 0;
    if (H5Dget_chunk_storage_size(dataset_, at.data(), &stored) < 0 || stored != static_cast<hsize_t>(chunk_bytes))
      return false;  // never written (fill value), or not what an unfiltered chunk should be
    float* to = out.data() + (lo - begin) * cols_;
    const bool whole = lo == c0 && hi == c0 + chunk_rows_ && stored_ == Stored::Float32;
    if (!whole) scratch_.resize(static_cast<std::size_t>(chunk_bytes));
    std::uint32_t filters = 0;
    if (H5Dread_chunk(dataset_, H5P_DEFAULT, at.data(), &filters, whole ? static_cast<void*>(to) : scratch_.data()) < 0)
      return false;
    if (!whole) convert(scratch_.data() + (lo - c0) * row_bytes, (hi - lo) * cols_, to);
  }
  return true;
}

bool DirectRows::read_contiguous(std::int64_t begin, std::int64_t count, std::span<float> out) {
  const std::int64_t bytes = count * cols_ * value_bytes_, at = offset_ + begin * cols_ * value_bytes_;
  unsigned char* to = reinterpret_cast<unsigned char*>(out.data());
  if (stored_ != Stored::Float32) {
    scratch_.resize(static_cast<std::size_t>(bytes));
    to = scratch_.data();
  }
  for (std::int64_t done = 0; done < bytes;) {
    const ssize_t n = ::pread(fd_, to + done, static_cast<std::size_t>(bytes - done), at + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // H5Dread reports it
    done += n;
  }
  if (stored_ != Stored::Float32) convert(to, count * cols_, out.data());
  return true;
}

void DirectRows::convert(const unsigned char* from, std::int64_t values, float* to) const {
  switch (stored_) {
    case Stored::Float32: std::memcpy(to, from, static_cast<std::size_t>(values) * 4); break;
    case Stored::Int8: cast_values<std::int8_t>(from, values, to); break;
    case Stored::Int16: cast_values<std::int16_t>(from, values, to); break;
    case Stored::Int32: cast_values<std::int32_t>(from, values, to); break;
    case Stored::Int64: cast_values<std::int64_t>(from, values, to); break;
    case Stored::Uint8: cast_values<std::uint8_t>(from, values, to); break;
    case Stored::Uint16: cast_values<std::uint16_t>(from, values, to); break;
    case Stored::Uint32: cast_values<std::uint32_t>(from, values, to); break;
    case Stored::Uint64: cast_values<std::uint64_t>(from, values, to); break;
  }
}

}  // namespace dptrain::detail
