// NumPy .npy arrays (np.save) to HDF5: features from one file, labels from another, read in
// blocks of rows by seeking, so the arrays never have to fit in memory. Format: the magic
// "\x93NUMPY", a version, a header length, a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }, then the raw data.
#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "convert_output.hpp"
#include "dptrain/convert.hpp"
#include "dptrain/error.hpp"

namespace dptrain {
namespace {

struct NpyArray {
  std::string path;
  char kind = 0;           // f (float), i (signed), u (unsigned), b (bool)
  std::size_t item = 0;    // bytes per element
  bool swap = false;       // stored big-endian on this little-endian machine (or the reverse)
  bool fortran = false;    // column-major
  std::vector<std::int64_t> shape;
  std::int64_t data_offset = 0;
  std::int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  std::int64_t cols() const {
    std::int64_t c = 1;
    for (std::size_t i = 1; i < shape.size(); ++i) c *= shape[i];
    return c;
  }
  std::string dtype() const {
    return std::string(kind == 'f' ? "float" : kind == 'i' ? "int" : kind == 'u' ? "uint" : "bool") +
           (kind == 'b' ? "" : std::to_string(8 * item));
  }
};

// The value of 'key' in the header dict, up to the next top-level comma or brace.
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  std::size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) at = header.find("\"" + key + "\"");
  if (at == std::string::npos) throw DataError(path + ": .npy header has no '" + key + "': " + header);
  at = header.find(':', at) + 1;
  while (at < header.size() && header[at] == ' ') ++at;
  std::size_t end = at;
  if (header[at] == '(') {
    end = header.find(')', at) + 1;
  } else {
    while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  }
  return header.substr(at, end - at);
}

NpyArray open_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || !f) throw DataError(path + ": no such file");
  char magic[8] = {0};
  f.read(magic, 8);
  if (f.gcount() >= 2 && magic[0] == 'P' && magic[1] == 'K')
    throw DataError(path + ": a .npz archive; save each array with np.save(\"X.npy\", X) instead");
  if (f.gcount() < 8 || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw DataError(path + ": not a .npy file (no \\x93NUMPY magic); write it with np.save");
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint32_t header_len = 0;
  unsigned char len_bytes[4] = {0};
  f.read(reinterpret_cast<char*>(len_bytes), major == 1 ? 2 : 4);
  header_len = len_bytes[0] | (len_bytes[1] << 8) | (std::uint32_t{len_bytes[2]} << 16) |
               (std::uint32_t{len_bytes[3]} << 24);
  std::string header(header_len, '\0');
  f.read(header.data(), header_len);
  if (!f || major < 1 || major > 3) throw DataError(path + ": truncated or unsupported .npy header");

  NpyArray a;
  a.path = path;
  a.data_offset = 8 + (major == 1 ? 2 : 4) + header_len;
  std::string descr = dict_value(header, "descr", path);
  descr.erase(std::remove_if(descr.begin(), descr.end(), [](char c) { return c == '\'' || c == '"'; }),
              descr.end());
  if (descr.size() < 3 || std::string("<>|=").find(descr[0]) == std::string::npos ||
      std::string("fiub").find(descr[1]) == std::string::npos)
    throw DataError(path + ": dtype '" + descr + "' is not supported; expected float32/float64, "
                    "integer or bool (not strings, objects or structured arrays)");
  a.kind = descr[1];
  a.item = std::stoul(descr.substr(2));
  if (a.kind == 'f' && a.item != 4 && a.item != 8)
    throw DataError(path + ": dtype '" + descr + "' is not supported; expected float32 or float64");
  if (a.item != 1 && a.item != 2 && a.item != 4 && a.item != 8)
    throw DataError(path + ": dtype '" + descr + "' is not supported");
  const bool big = descr[0] == '>';
  a.swap = a.item > 1 && (big != (std::endian::native == std::endian::big)) && descr[0] != '|' &&
           descr[0] != '=';
  a.fortran = dict_value(header, "fortran_order", path) == "True";
  const std::string shape = dict_value(header, "shape", path);
  for (std::size_t i = 0; i < shape.size();) {
    if (std::isdigit(static_cast<unsigned char>(shape[i]))) {
      std::size_t used = 0;
      a.shape.push_back(std::stoll(shape.substr(i), &used));
      i += used;
    } else {
      ++i;
    }
  }
  if (a.shape.empty()) throw DataError(path + ": a 0-d array (shape " + shape + "); expected rows");
  std::int64_t elements = 1;
  for (auto d : a.shape) elements *= d;
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(path));
  if (size < a.data_offset + elements * static_cast<std::int64_t>(a.item))
    throw DataError(path + ": truncated: shape " + shape + " of " + descr + " needs " +
                    std::to_string(a.data_offset + elements * static_cast<std::int64_t>(a.item)) +
                    " bytes, the file has " + std::to_string(size));
  return a;
}

template <class T>
double element(const unsigned char* p, bool swap) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, p, sizeof(T));
  if (swap) std::reverse(bytes, bytes + sizeof(T));
  T v;
  std::memcpy(&v, bytes, sizeof(T));
  return static_cast<double>(v);
}

double to_double(const NpyArray& a, const unsigned char* p) {
  switch (a.kind) {
    case 'f': return a.item == 4 ? element<float>(p, a.swap) : element<double>(p, a.swap);
    case 'b': return *p ? 1.0 : 0.0;
    case 'i':
      switch (a.item) {
        case 1: return element<std::int8_t>(p, false);
        case 2: return element<std::int16_t>(p, a.swap);
        case 4: return element<std::int32_t>(p, a.swap);
        default: return element<std::int64_t>(p, a.swap);
      }
    default:
      switch (a.item) {
        case 1: return element<std::uint8_t>(p, false);
        case 2: return element<std::uint16_t>(p, a.swap);
        case 4: return element<std::uint32_t>(p, a.swap);
        default: return element<std::uint64_t>(p, a.swap);
      }
  }
}

// Reads rows [begin, begin + count) as doubles, row-major, into out (count x cols).
class NpyRowReader {
 public:
  explicit NpyRowReader(const NpyArray& a) : a_(a), f_(a.path, std::ios::binary) {}
  void read(std::int64_t begin, std::int64_t count, double* out) {
    const std::int64_t cols = a_.cols();
    if (!a_.fortran || cols == 1) {
      raw_.resize(static_cast<std::size_t>(count * cols) * a_.item);
      seek_read(a_.data_offset + begin * cols * static_cast<std::int64_t>(a_.item), raw_.size());
      for (std::int64_t i = 0; i < count * cols; ++i) out[i] = to_double(a_, raw_.data() + i * a_.item);
      return;
    }
    // Column-major: each column's run of rows is contiguous. Column f in Fortran order of the
    // trailing dimensions is column c in the row-major flattening the output uses.
    raw_.resize(static_cast<std::size_t>(count) * a_.item);
    for (std::int64_t f = 0; f < cols; ++f) {
      std::int64_t rest = f, c = 0, stride = 1;
      std::vector<std::int64_t> index(a_.shape.size(), 0);
      for (std::size_t d = 1; d < a_.shape.size(); ++d) index[d] = rest % a_.shape[d], rest /= a_.shape[d];
      for (std::size_t d = a_.shape.size() - 1; d >= 1; --d) c += index[d] * stride, stride *= a_.shape[d];
      seek_read(a_.data_offset + (f * a_.rows() + begin) * static_cast<std::int64_t>(a_.item), raw_.size());
      for (std::int64_t r = 0; r < count; ++r) out[r * cols + c] = to_double(a_, raw_.data() + r * a_.item);
    }
  }

 private:
  void seek_read(std::int64_t offset, std::size_t bytes) {
    f_.seekg(offset);
    f_.read(reinterpret_cast<char*>(raw_.data()), static_cast<std::streamsize>(bytes));
    if (!f_) throw DataError(a_.path + ": read error at byte " + std::to_string(offset));
  }
  const NpyArray& a_;
  std::ifstream f_;
  std::vector<unsigned char> raw_;
};

}  // namespace

ConvertSummary convert_npy(const ConvertOptions& o) {
  if (o.input.empty() || o.out.empty())
    throw ConfigError("convert --from npy needs --input X.npy (and --labels y.npy) and --out FILE.h5");
  if (o.label_type != "auto" && o.label_type != "int" && o.label_type != "float")
    throw ConfigError("--label-type '" + o.label_type + "': expected auto, int or float for npy");
  const NpyArray x = open_npy(o.input);
  if (x.kind == 'b') throw DataError(o.input + ": bool features; expected numbers");
  std::optional<NpyArray> y;
  if (!o.labels.empty()) {
    y = open_npy(o.labels);
    if (y->rows() != x.rows())
      throw DataError(o.labels + ": has " + std::to_string(y->rows()) + " rows but " + o.input +
                      " has " + std::to_string(x.rows()) + "; expected the same row count");
    if (y->shape.size() > 2)
      throw DataError(o.labels + ": labels have " + std::to_string(y->shape.size()) +
                      " dimensions; expected [N] or [N, K]");
  }
  const std::int64_t rows = x.rows(), cols = x.cols(), label_cols = y ? y->cols() : 0;
  if (cols == 0) throw DataError(o.input + ": no feature columns");
  const std::int64_t block = block_rows_for(o, cols);
  std::vector<double> xd(static_cast<std::size_t>(block * cols)), yd(static_cast<std::size_t>(block * label_cols));
  std::vector<float> xf(xd.size());
  ConvertSummary summary;
  summary.features = cols;
  write_file_atomically(o.out, [&](H5Writer& writer) {
    ConvertOutput output(writer, cols, label_cols, o);
    NpyRowReader features(x);
    std::optional<NpyRowReader> labels;
    if (y) labels.emplace(*y);
    for (std::int64_t begin = 0; begin < rows; begin += block) {
      const std::int64_t n = std::min(block, rows - begin);
      features.read(begin, n, xd.data());
      std::copy(xd.begin(), xd.begin() + n * cols, xf.begin());
      if (labels) labels->read(begin, n, yd.data());
      output.append(xf.data(), yd.data(), n);
      if (o.progress) {
        const std::int64_t done = x.data_offset + (begin + n) * cols * static_cast<std::int64_t>(x.item);
        o.progress(done, x.data_offset + rows * cols * static_cast<std::int64_t>(x.item), output.rows());
      }
    }
    // Integer and bool arrays give class ids; float arrays give float targets, unless told.
    const bool integer = y && (o.label_type == "int" || (o.label_type == "auto" && y->kind != 'f'));
    if (integer && !output.labels_integral())
      throw DataError(o.labels + ": labels are not all integers (--label-type int)");
    summary.label_type = output.finish(integer);
    summary.rows = output.rows();
    writer.set_attribute("/features", "source", o.input);
  });
  std::string shape;
  for (auto d : x.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  summary.details = "features " + x.dtype() + " [" + shape + "]" + (x.fortran ? " (Fortran order)" : "") +
                    (y ? ", labels " + y->dtype() : ", no labels");
  return summary;
}

}  // namespace dptrain
