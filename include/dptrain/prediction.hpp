#pragma once
// Predictions of a trained model for every row of a dataset, written in input order into one
// file by rank 0 (an ordered gather, block by block), and a streaming mode that answers CSV
// rows from a pipe as they arrive.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "dptrain/communicator.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/model.hpp"

#include "dptrain/text_features.hpp"

namespace dptrain {

struct PredictOptions {
  std::string model;                 // checkpoint file
  DataOptions data;                  // features only: labels_required is ignored (false)
  std::string out;                   // output file
  std::string out_format = "auto";   // auto (csv when out ends in .csv, else h5) | h5 | csv
  int threads = 1;
  std::int64_t block_rows = 16384;   // rows read, scored and sent to rank 0 at a time
  double memory_budget = 0;          // MiB a rank reads at a time (caps block_rows; 0: default budget)
};

struct PredictReport {
  ModelSpec spec;
  std::int64_t rows = 0;
  std::string format;         // h5 | csv
  double seconds = 0;         // whole command after option parsing
  double read_seconds = 0;    // reading and checking the input (slowest rank)
  double score_seconds = 0;   // the forward passes (slowest rank)
  double write_seconds = 0;   // ordered gather and writing on rank 0
};

// Runs on every rank. Each rank reads and scores its shard in blocks of block_rows, keeping
// only its shard's model outputs; rank 0 then writes its own rows and receives every other
// rank's rows block by block in rank order, appending them, so rank 0 never holds more than
// its shard plus one block. The file is written atomically (temporary file, then rename).
//   h5:  /predictions int64 [N] class ids and /probabilities float32 [N, C] (classifiers),
//        or /predictions float32 [N, K] values (regression)
//   csv: a header line (prediction_csv_header), then per row "class,p_0,...,p_{C-1}" or
//        "v_0,...,v_{K-1}"; the class is the id (the header names the classes)
// Any error on any rank ends every rank with the same CollectiveFailure.
PredictReport predict_to_file(const PredictOptions& options, Communicator& comm);

// One CSV line (with '\n') of the prediction for one row of model outputs, as in the csv
// format: the class id then the class probabilities, or the regression values. Floats are
// written in their shortest form that reads back to the same float.
void append_prediction_csv(const ModelSpec& spec, const float* output, std::string& line);
// The header line: "prediction,p_<class>,..." with the class names when given (one per
// class, CSV-quoted where needed), else the class ids ("p_0,..."); "value_0,..." for regression.
std::string prediction_csv_header(const ModelSpec& spec, const std::vector<std::string>& class_names = {});

struct StreamOptions {
  int threads = 1;
  std::int64_t batch_lines = 256;  // at most this many lines are scored together
  // predict --stdin --text FILE: lines are raw text (or label<TAB>text: the text after the
  // first tab), featurised with the settings the text converter stored in FILE.
  std::optional<TextFeatureOptions> text;
};

// Reads CSV rows of features from `input_fd` until end of input and writes one prediction
// line (append_prediction_csv) per input line to `out`. Lines are batched: after one line
// arrives, the lines already available without waiting (up to batch_lines) join its batch;
// the batch is scored with the threads and its answers are flushed before reading on. A
// line with the wrong number of values or a non-finite value throws DataError naming the
// line number, after answering the lines before it. Returns the number of lines answered.
std::int64_t predict_stream(const ModelSpec& spec, const AlignedVector<float>& params, int input_fd,
                            std::ostream& out, const StreamOptions& options);

}  // namespace dptrain
