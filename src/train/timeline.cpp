#include "train/timeline.hpp"

#include <cerrno>
#include <cmath>
#include <fstream>

#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "dptrain/json.hpp"
#include "io/atomic_file.hpp"

namespace dptrain {

Timeline::Timeline(bool enabled, std::size_t capacity) : enabled_(enabled) {
  if (enabled_) events_.reserve(capacity);
}

void Timeline::write(const std::string& path, Communicator& comm) const {
  // Ranks' clocks are aligned at the collective that starts the gather: each rank's spans are
  // shifted so that moment is the same time on every track.
  comm.barrier();
  const double sync = now_seconds();
  std::vector<double> lead = {events_.empty() ? 0.0 : sync - events_.front().start};
  comm.allreduce_max(lead, "timeline");
  std::string mine;
  const auto microseconds = [](double s) { return std::round(s * 1e7) / 10; };  // 0.1 us
  for (const auto& e : events_)
    mine += ",\n" + to_json_line({{"name", e.name}, {"ph", "X"}, {"pid", comm.rank()}, {"tid", 0},
                                  {"ts", microseconds(e.start - sync + lead[0])},
                                  {"dur", microseconds(e.end - e.start)}});
  const auto all = comm.allgather(mine);
  run_agreed(comm, [&] {
    if (comm.rank() != 0) return;
    errno = 0;
    std::ofstream out(path, std::ios::trunc);
    if (!out) throw DataError("--timeline " + path + ": cannot open for writing: " + errno_text(errno));
    // One event per line, so a trace of a million spans stays readable.
    out << "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
    for (int r = 0; r < comm.size(); ++r)
      out << (r ? ",\n" : "")
          << to_json_line({{"name", "process_name"}, {"ph", "M"}, {"pid", r}, {"args", {{"name", "rank " + std::to_string(r)}}}});
    for (const auto& part : all) out << part;
    out << "\n]}\n";
    out.close();
    if (!out) throw DataError("--timeline " + path + ": writing failed: " + errno_text(errno));
  });
}

}  // namespace dptrain
