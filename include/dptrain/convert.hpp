#pragma once
// Importers from other formats into dptrain's HDF5 layout: /features float32 [N, D] and
// /labels [N] (int64 class ids or float32 targets). CSV, LIBSVM and .npy are streamed in
// blocks of rows into chunked datasets, so memory stays bounded whatever the input size.
#include <cstdint>
#include <functional>
#include <string>

namespace dptrain {

struct ConvertOptions {
  std::string from;    // csv | libsvm | npy | idx | text
  std::string input;   // the input file (csv, libsvm: .gz read too; npy: the features array)
  std::string labels;  // npy: the labels array (optional); idx: the labels file
  std::string out;
  std::int64_t chunk_rows = 0;  // rows per HDF5 chunk; 0: about 256 KiB of features per chunk
  int gzip = 0;                 // gzip level 1-9 (with the shuffle filter); 0: none
  std::int64_t block_rows = 0;  // rows read and written at a time; 0: about 16 MiB of features

  // csv
  std::string delimiter = ",";     // one character; "tab" or "\t" for tabs
  std::string header = "auto";     // auto (a first line with a non-number is a header) | yes | no
  std::string label_column = "-1"; // a header name, or an index (negative: from the end)
  // csv, libsvm
  std::string label_type = "auto";  // auto (int64 when every label is an integer) | int | float
  std::string label_map;            // e.g. "-1:0,1:1": replace label values before writing
  // libsvm
  std::int64_t features = 0;        // feature count; 0: inferred (one extra pass over the file)
  std::string index_base = "auto";  // 0 | 1 | auto (1 unless an index 0 appears; one extra pass)
  // text (text_features.hpp): label<TAB>text lines hashed into 2^hash_bits CSR columns
  int ngrams = 2;
  int hash_bits = 20;
  std::string tf = "log";   // log | raw
  std::string norm = "l2";  // l2 | none
  std::string layout = "auto";      // libsvm, text: dense | sparse (CSR group /features) | auto (CSR below 10% density)

  // Called now and then with (input bytes read, input bytes in all, rows written); the
  // total is 0 when unknown. Null: no progress.
  std::function<void(std::int64_t, std::int64_t, std::int64_t)> progress;
};

struct ConvertSummary {
  std::int64_t rows = 0;
  std::int64_t features = 0;
  std::string label_type;  // int64 | float32 | none
  std::string details;     // e.g. "header line, label column 'y' (index 4)"
};

ConvertSummary convert_csv(const ConvertOptions& options);
ConvertSummary convert_libsvm(const ConvertOptions& options);
ConvertSummary convert_npy(const ConvertOptions& options);
ConvertSummary convert_text(const ConvertOptions& options);

// Returns the number of rows written.
std::int64_t convert_idx(const ConvertOptions& options);

}  // namespace dptrain
