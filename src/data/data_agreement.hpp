#pragma once
// Ranks agree on what they read before the first collective that depends on it. Each rank
// describes the data on its own (describe_data); a file replaced, still growing or different
// between two ranks' opens would otherwise end in a raw MPI error or silently different rows.
#include <string>

#include "dptrain/communicator.hpp"
#include "dptrain/dataset.hpp"

namespace dptrain {

// A cheap identity of a file's content: its size and an FNV-1a hash of its first and last
// 64 KiB (the HDF5 superblock and object headers sit at the start, appended data at the end).
// Copies of the same file on different hosts have the same fingerprint; inode and mtime are
// left out on purpose, so per-node copies of a data set are accepted.
std::string file_fingerprint(const std::string& path);

// One line per file: rows, columns, label columns and type, and the file's fingerprint.
std::string describe_for_agreement(const DataOptions& options, const DataDescription& description);

// Collective: every rank passes its own description of the same `options`. If any rank's
// description differs from rank 0's, every rank throws the same CollectiveFailure naming
// `what` ("training data"), the first differing rank and file, and both descriptions.
void agree_on_data(Communicator& comm, const DataOptions& options,
                   const DataDescription& description, const std::string& what);

}  // namespace dptrain
