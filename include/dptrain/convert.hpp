#pragma once
// Importers from other formats into dptrain's HDF5 layout (/features, /labels).
#include <cstdint>
#include <string>

namespace dptrain {

struct ConvertOptions {
  std::string from;         // idx (more formats: see README "Preparing data")
  std::string input;        // idx: the images file (.gz or not)
  std::string labels;       // idx: the labels file (.gz or not)
  std::string out;
  std::int64_t chunk_rows = 0;
  int gzip = 0;
};

// Returns the number of rows written.
std::int64_t convert_idx(const ConvertOptions& options);

}  // namespace dptrain
