// `dptrain inspect` on a CSR group: its size and density, and the stored values' range.
#include <algorithm>
#include <cstdio>

#include "dptrain/inspect.hpp"

namespace dptrain {

ValueStats csr_value_stats(const H5Reader& file, const std::string& group, const CsrDescription& csr) {
  ValueStats stats;
  constexpr std::int64_t kBlock = 1 << 21;  // 16 MiB of doubles
  std::vector<double> values(static_cast<std::size_t>(std::min(kBlock, csr.nnz)));
  for (std::int64_t begin = 0; begin < csr.nnz; begin += kBlock) {
    const std::int64_t n = std::min(kBlock, csr.nnz - begin);
    const auto part = std::span(values).first(static_cast<std::size_t>(n));
    file.read_rows(group + "/data", begin, n, part);
    for (const double v : part) stats.add(v);
  }
  return stats;
}

std::string describe_csr_text(const CsrDescription& csr) {
  char text[256];
  std::snprintf(text, sizeof text,
                "CSR group, %lld rows x %lld columns, %lld non-zeros (density %.4g%%, %.1f per row), indices %s, "
                "values %s",
                static_cast<long long>(csr.rows), static_cast<long long>(csr.cols), static_cast<long long>(csr.nnz),
                100.0 * csr.density(), csr.rows ? static_cast<double>(csr.nnz) / static_cast<double>(csr.rows) : 0.0,
                csr.index_type.c_str(), csr.value_type.c_str());
  return text;
}

}  // namespace dptrain
