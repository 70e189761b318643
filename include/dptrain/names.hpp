#pragma once
// Column and class names stored with the data and the model: 1-D arrays of variable-length
// UTF-8 strings (h5py reads them as str), written by `convert`, kept in checkpoints, and used
// by inspect, eval (the per-class report) and predict (the CSV header).
//   data:        /features attribute "columns", /labels attribute "classes"
//   checkpoints: / attributes "column_names", "class_names"
// Files from older versions stored them as one comma-joined string ("classes", "columns") or a
// newline-joined one (text convert's "class-names"); those are still read.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dptrain/checkpoint.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {

// `text` without a leading UTF-8 byte order mark (EF BB BF).
std::string_view strip_utf8_bom(std::string_view text);

// The names stored on `object` under `key` (an array, or an old joined string split at
// `separator`); empty when there is no such string attribute.
std::vector<std::string> read_names(const H5Reader& file, const std::string& object, const std::string& key,
                                    char separator = ',');
// The class names of a labels dataset ("classes", or text convert's older "class-names").
std::vector<std::string> read_class_names(const H5Reader& file, const std::string& labels_name);
// The feature column names of a features dataset or CSR group ("columns").
std::vector<std::string> read_column_names(const H5Reader& file, const std::string& features_name);

// `names` when there is exactly one per item (`count`), else nothing: names that do not fit
// the model (another class count) are not used.
std::vector<std::string> names_if_count(const std::vector<std::string>& names, std::int64_t count);

// The class names eval and predict show: the model's (kept from its training data), else the
// scored data's when they fit; empty for regression or when neither has names.
std::vector<std::string> model_class_names(const Checkpoint& model, const DataDescription& data);

// "p_<name>" (or "p_<id>" without names): predict's CSV column headers.
std::string probability_column(const std::vector<std::string>& class_names, std::int64_t id);

}  // namespace dptrain
