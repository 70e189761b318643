#include "tensorboard.hpp"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "dptrain/error.hpp"
#include "output_paths.hpp"

namespace dptrain {
namespace {

std::array<std::uint32_t, 256> crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected Castagnoli
    table[i] = c;
  }
  return table;
}

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Protocol buffer encoding: a field key is (number << 3 | wire type).
void put_varint(std::string& s, std::uint64_t v) {
  while (v >= 0x80) {
    s += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  s += static_cast<char>(v);
}
template <typename T>
void put_fixed(std::string& s, T v) {  // little-endian (x86 and every host we build on)
  char bytes[sizeof v];
  std::memcpy(bytes, &v, sizeof v);
  s.append(bytes, sizeof v);
}
void put_bytes(std::string& s, int field, std::string_view bytes) {
  put_varint(s, static_cast<std::uint64_t>(field) << 3 | 2);
  put_varint(s, bytes.size());
  s.append(bytes);
}

// Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
std::string event_header(std::int64_t step) {
  std::string e;
  put_varint(e, 1 << 3 | 1);
  put_fixed(e, wall_time());
  put_varint(e, 2 << 3 | 0);
  put_varint(e, static_cast<std::uint64_t>(step));
  return e;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "host";
  return name;
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t bytes) {
  static const std::array<std::uint32_t, 256> table = crc32c_table();
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < bytes; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint32_t masked_crc32c(const void* data, std::size_t bytes) {
  const std::uint32_t c = crc32c(data, bytes);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  prepare_output_folder(dir, "--tensorboard");
  const auto seconds = static_cast<long long>(wall_time());
  path_ = (std::filesystem::path(dir) / ("events.out.tfevents." + std::to_string(seconds) + "." + host_name() + "." +
                                         std::to_string(::getpid()) + ".dptrain"))
              .string();
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw ConfigError("--tensorboard " + dir + ": cannot create " + path_);
  std::string first = event_header(0);
  put_bytes(first, 3, "brain.Event:2");
  record(first);
  out_.flush();
}

void TensorBoardWriter::scalar(const std::string& tag, double value, std::int64_t step) {
  // Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }
  std::string v;
  put_bytes(v, 1, tag);
  put_varint(v, 2 << 3 | 5);
  put_fixed(v, static_cast<float>(value));
  std::string summary;
  put_bytes(summary, 1, v);
  std::string e = event_header(step);
  put_bytes(e, 5, summary);
  record(e);
}

void TensorBoardWriter::epoch(const EpochReport& r) {
  scalar("loss", r.train_loss, r.epoch);
  if (r.train_accuracy) scalar("accuracy", *r.train_accuracy, r.epoch);
  if (r.val_loss) scalar("val_loss", *r.val_loss, r.epoch);
  if (r.val_accuracy) scalar("val_accuracy", *r.val_accuracy, r.epoch);
  scalar("samples_per_s", r.samples_per_s, r.epoch);
  scalar("learning_rate", r.lr, r.epoch);
  out_.flush();
  if (!out_) throw DataError(path_ + ": writing TensorBoard events failed (--tensorboard)");
}

// TFRecord: uint64 length, masked CRC of the length, the data, masked CRC of the data.
void TensorBoardWriter::record(std::string_view event) {
  std::string framed;
  const std::uint64_t length = event.size();
  put_fixed(framed, length);
  put_fixed(framed, masked_crc32c(&length, sizeof length));
  framed.append(event);
  put_fixed(framed, masked_crc32c(event.data(), event.size()));
  out_.write(framed.data(), static_cast<std::streamsize>(framed.size()));
}

}  // namespace dptrain
