#include "data/data_agreement.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "dptrain/error.hpp"
#include "util/fnv1a.hpp"

namespace dptrain {
namespace {

constexpr std::int64_t kHashedBytes = 64 * 1024;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

std::string file_fingerprint(const std::string& path) {
  std::error_code ec;
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  if (ec) throw DataError(path + ": cannot read its size: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open it to check its identity");
  std::uint64_t h = kFnv1aOffset;
  std::vector<char> buffer(static_cast<std::size_t>(kHashedBytes));
  const auto hash_at = [&](std::int64_t offset) {
    in.seekg(offset);
    in.read(buffer.data(), kHashedBytes);
    fnv1a(h, buffer.data(), static_cast<std::size_t>(in.gcount()));
    in.clear();
  };
  hash_at(0);
  if (size > kHashedBytes) hash_at(std::max(kHashedBytes, size - kHashedBytes));
  char text[64];
  std::snprintf(text, sizeof text, "%lld bytes, content hash %016llx", static_cast<long long>(size),
                static_cast<unsigned long long>(h));
  return text;
}

std::string describe_for_agreement(const DataOptions& options, const DataDescription& d) {
  std::ostringstream s;
  for (std::size_t i = 0; i < options.files.size(); ++i) {
    s << options.files[i] << ": " << (i < d.file_rows.size() ? d.file_rows[i] : -1) << " rows x "
      << d.cols << " features, " << d.label_cols << " label column(s)"
      << (d.label_cols ? (d.integer_labels ? " (integer)" : " (float)") : "") << ", "
      << file_fingerprint(options.files[i]) << "\n";
  }
  return s.str();
}

void agree_on_data(Communicator& comm, const DataOptions& options, const DataDescription& description,
                   const std::string& what) {
  std::string mine;
  std::optional<std::string> error;
  try {
    mine = describe_for_agreement(options, description);
  } catch (const std::exception& e) {
    error = e.what();
  }
  throw_if_any_failed(comm, error);
  const auto all = comm.allgather(mine);
  const auto reference = lines(all[0]);
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r] == all[0]) continue;
    const auto other = lines(all[r]);
    std::size_t f = 0;
    while (f < reference.size() && f < other.size() && reference[f] == other[f]) ++f;
    throw CollectiveFailure(
        static_cast<int>(r),
        "the ranks see different " + what + " (a file replaced or still being written while the "
            "job started, or different copies on different hosts): rank 0 sees " +
            (f < reference.size() ? reference[f] : std::string("no more files")) + "; rank " +
            std::to_string(r) + " sees " + (f < other.size() ? other[f] : std::string("no more files")));
  }
}

}  // namespace dptrain
