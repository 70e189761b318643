#pragma once
// --timeline trace.json: spans of what each rank did (read, forward/backward, allreduce wait,
// update, validation, checkpoint), written as a Chrome trace (chrome://tracing, Perfetto) with
// one track per rank. Recording is a store into a preallocated vector; nothing is written
// until the end.
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/communicator.hpp"

namespace dptrain {

class Timeline {
 public:
  explicit Timeline(bool enabled, std::size_t capacity = 1 << 20);
  bool enabled() const { return enabled_; }
  // Records a span [start, end) named by a string literal (not copied).
  void add(const char* name, double start, double end) {
    if (enabled_ && events_.size() < events_.capacity()) events_.push_back({name, start, end});
  }
  // Gathers every rank's spans (a collective); rank 0 writes `path`.
  void write(const std::string& path, Communicator& comm) const;

 private:
  struct Event {
    const char* name;
    double start, end;
  };
  bool enabled_;
  std::vector<Event> events_;
};

}  // namespace dptrain
