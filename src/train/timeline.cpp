#include "dptrain/timeline.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "dptrain/atomic_file.hpp"
#include "dptrain/error.hpp"

namespace dptrain {

Timeline::Timeline(bool enabled, std::size_t capacity) : enabled_(enabled) {
  if (enabled_) events_.reserve(capacity);
}

double Timeline::now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Timeline::write(const std::string& path, Communicator& comm) const {
  // Ranks' clocks are aligned at the collective that starts the gather: each rank's spans are
  // shifted so that moment is the same time on every track.
  comm.barrier();
  const double sync = now();
  std::vector<double> lead = {events_.empty() ? 0.0 : sync - events_.front().start};
  comm.allreduce_max(lead, "timeline");
  std::string mine;
  char line[256];
  for (const auto& e : events_) {
    std::snprintf(line, sizeof line,
                  ",\n{\"name\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":0,\"ts\":%.1f,\"dur\":%.1f}",
                  e.name, comm.rank(), (e.start - sync + lead[0]) * 1e6, (e.end - e.start) * 1e6);
    mine += line;
  }
  const auto all = comm.allgather(mine);
  run_agreed(comm, [&] {
    if (comm.rank() != 0) return;
    errno = 0;
    std::ofstream out(path, std::ios::trunc);
    if (!out) throw DataError("--timeline " + path + ": cannot open for writing: " + errno_text(errno));
    out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
    for (int r = 0; r < comm.size(); ++r)
      out << (r ? ",\n" : "") << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << r
          << ",\"args\":{\"name\":\"rank " << r << "\"}}";
    for (const auto& part : all) out << part;
    out << "\n]}\n";
    out.close();
    if (!out) throw DataError("--timeline " + path + ": writing failed: " + errno_text(errno));
  });
}

}  // namespace dptrain
