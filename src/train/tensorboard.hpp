#pragma once
// --tensorboard DIR: the per-epoch metrics as a TensorBoard event file, written by rank 0.
// The format is small enough to write by hand: a file of TFRecords (uint64 length, masked
// CRC-32C of the length, the bytes, masked CRC-32C of the bytes), each an `Event` protobuf.
// The first event carries file_version "brain.Event:2"; then one event per scalar with
// wall_time, step (the epoch) and a Summary of one simple_value. TensorBoard reads any file
// named *tfevents* in the folder, so each run (or resumed run) adds its own file.
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "dptrain/trainer.hpp"

namespace dptrain {

// CRC-32C (Castagnoli), and TFRecord's masking of it.
std::uint32_t crc32c(const void* data, std::size_t bytes);
std::uint32_t masked_crc32c(const void* data, std::size_t bytes);

class TensorBoardWriter {
 public:
  // Creates DIR if needed and a new events.out.tfevents.<time>.<host>.<pid> file in it;
  // throws ConfigError naming --tensorboard.
  explicit TensorBoardWriter(const std::string& dir);
  const std::string& path() const { return path_; }
  void scalar(const std::string& tag, double value, std::int64_t step);
  // The epoch's scalars: loss, accuracy, val_loss, val_accuracy (when there), samples_per_s,
  // learning_rate; then flushes, so TensorBoard sees each epoch as it ends.
  void epoch(const EpochReport& report);

 private:
  void record(std::string_view event);
  std::string path_;
  std::ofstream out_;
};

}  // namespace dptrain
