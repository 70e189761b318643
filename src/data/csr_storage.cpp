// The anndata CSR layout in HDF5: describing, reading a rank's rows, writing.
#include <algorithm>
#include <limits>

#include "dptrain/csr.hpp"
#include "dptrain/error.hpp"

namespace dptrain {
namespace {

std::string where(const H5Reader& file, const std::string& name) { return file.path() + ": CSR group '" + name + "'"; }

}  // namespace

void CsrRows::clear() {
  indptr.assign(1, 0);
  indices.clear();
  values.clear();
}

void CsrRows::append(const CsrView& from, std::int64_t row) {
  const std::int64_t b = from.indptr[row], e = from.indptr[row + 1];
  indices.insert(indices.end(), from.indices + b, from.indices + e);
  values.insert(values.end(), from.values + b, from.values + e);
  indptr.push_back(static_cast<std::int64_t>(indices.size()));
}

bool is_csr_group(const H5Reader& file, const std::string& name) {
  return file.has_group(name) && file.has_attribute(name, "encoding-type") &&
         file.attribute_string(name, "encoding-type") == "csr_matrix";
}

CsrDescription describe_csr(const H5Reader& file, const std::string& name) {
  const std::string at = where(file, name);
  const std::vector<std::int64_t> shape = file.has_attribute(name, "shape") ? file.attribute_ints(name, "shape")
                                                                            : std::vector<std::int64_t>{};
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0)
    throw DataError(at + " needs a 'shape' attribute [rows, cols] (anndata layout)");
  CsrDescription d;
  d.rows = shape[0];
  d.cols = shape[1];
  if (d.cols > std::numeric_limits<std::int32_t>::max())
    throw DataError(at + " has " + std::to_string(d.cols) + " columns; at most 2^31 - 1 are supported");
  for (const char* part : {"data", "indices", "indptr"})
    if (!file.has_dataset(name + "/" + part))
      throw DataError(at + " has no dataset '" + part + "'; expected data, indices and indptr");
  const DatasetShape data = file.shape(name + "/data"), indices = file.shape(name + "/indices"),
                     indptr = file.shape(name + "/indptr");
  if (data.dims.size() != 1 || indices.dims.size() != 1 || indptr.dims.size() != 1)
    throw DataError(at + ": data, indices and indptr must be 1-D");
  if (data.kind == DatasetShape::Kind::Other)
    throw DataError(at + ": data has type " + data.type_name + "; expected float32/float64");
  if (indices.kind != DatasetShape::Kind::Integer || indptr.kind != DatasetShape::Kind::Integer)
    throw DataError(at + ": indices (" + indices.type_name + ") and indptr (" + indptr.type_name +
                    ") must be integers (int32 or int64)");
  if (indptr.rows() != d.rows + 1)
    throw DataError(at + ": indptr has " + std::to_string(indptr.rows()) + " entries; expected rows + 1 = " +
                    std::to_string(d.rows + 1));
  if (data.rows() != indices.rows())
    throw DataError(at + ": data has " + std::to_string(data.rows()) + " values but indices has " +
                    std::to_string(indices.rows()));
  d.nnz = data.rows();
  d.index_type = indices.type_name;
  d.value_type = data.type_name;
  return d;
}

void read_csr_rows(const H5Reader& file, const std::string& name, const CsrDescription& csr, std::int64_t begin,
                   std::int64_t count, CsrRows& out) {
  if (count <= 0) return;
  const std::string at = where(file, name);
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(count + 1));
  file.read_rows(name + "/indptr", begin, count + 1, std::span(offsets));
  const std::int64_t first = offsets.front(), last = offsets.back();
  for (std::int64_t r = 0; r < count; ++r)
    if (offsets[r + 1] < offsets[r])
      throw DataError(at + ": indptr decreases at row " + std::to_string(begin + r) + "; expected offsets in order");
  if (first < 0 || last > csr.nnz)
    throw DataError(at + ": indptr of rows " + std::to_string(begin) + ".." + std::to_string(begin + count) +
                    " points outside the " + std::to_string(csr.nnz) + " stored values");
  const std::size_t base = out.indices.size();
  const auto n = static_cast<std::size_t>(last - first);
  out.indices.resize(base + n);
  out.values.resize(base + n);
  file.read_rows(name + "/indices", first, last - first, std::span(out.indices).subspan(base, n));
  file.read_rows(name + "/data", first, last - first, std::span(out.values).subspan(base, n));
  for (std::int64_t r = 0; r < count; ++r) {
    for (std::int64_t k = offsets[r]; k < offsets[r + 1]; ++k) {
      const std::int32_t c = out.indices[base + static_cast<std::size_t>(k - first)];
      if (c < 0 || c >= csr.cols)
        throw DataError(at + " row " + std::to_string(begin + r) + ": column index " + std::to_string(c) +
                        " is outside [0, " + std::to_string(csr.cols) + ")");
    }
    out.indptr.push_back(static_cast<std::int64_t>(base) + offsets[r + 1] - first);
  }
}

CsrWriter::CsrWriter(H5Writer& writer, std::string group, const H5Layout& layout)
    : writer_(writer), group_(std::move(group)) {
  H5Layout values = layout;
  values.chunk_rows = std::max<std::int64_t>(values.chunk_rows, 1 << 16);
  writer_.create_growing(group_ + "/data", 0, false, values);
  writer_.create_growing(group_ + "/indices", 0, true, values);
  writer_.create_growing(group_ + "/indptr", 0, true, values);
  const std::int64_t zero = 0;
  writer_.append_rows(group_ + "/indptr", 1, &zero);
}

void CsrWriter::append(const CsrRows& rows) {
  if (rows.rows() == 0) return;
  scratch_.assign(rows.indices.begin(), rows.indices.end());
  writer_.append_rows(group_ + "/indices", rows.nnz(), scratch_.data());
  writer_.append_rows(group_ + "/data", rows.nnz(), rows.values.data());
  scratch_.assign(rows.indptr.begin() + 1, rows.indptr.end());
  for (auto& offset : scratch_) offset += nnz_;
  writer_.append_rows(group_ + "/indptr", rows.rows(), scratch_.data());
  rows_ += rows.rows();
  nnz_ += rows.nnz();
}

void CsrWriter::finish(std::int64_t cols) {
  writer_.set_attribute(group_, "encoding-type", std::string("csr_matrix"));
  writer_.set_attribute(group_, "encoding-version", std::string("0.1.0"));
  writer_.set_attribute(group_, "shape", std::vector<std::int64_t>{rows_, cols});
}

}  // namespace dptrain
