// With mpi_node_shared.cpp, the only files that include <mpi.h>.
#include "dptrain/mpi_communicator.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "dptrain/error.hpp"
#include "dptrain/clock.hpp"
#include "mpi_node_shared.hpp"
#include "wait_backoff.hpp"

namespace dptrain {
namespace {

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  throw CommunicationError(std::string(call) + " failed: " + std::string(text, len));
}

// Open MPI maps a fresh temporary buffer for very large reductions; reducing in pieces
// of at most this many bytes keeps them fast (see PLATFORM.md).
constexpr std::size_t kMaxPieceBytes = 16u << 20;

// The exit code of a job aborted because a rank stalled or died inside a collective.
constexpr int kStallExitCode = kExitStall;
// Tag of point-to-point messages on our private communicator (collectives do not use tags).
constexpr int kPointToPointTag = 17;

int message_count(std::size_t n, const char* phase) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw CommunicationError(std::string(phase) + ": message of " + std::to_string(n) +
                " values is too large for one MPI message");
  return static_cast<int>(n);
}

}  // namespace

MpiEnvironment::MpiEnvironment(int* argc, char*** argv) {
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // OpenMP threads compute, only the main thread calls MPI: FUNNELED is all dptrain needs.
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw CommunicationError("MPI_Init_thread: the MPI library provides thread level " +
                             std::to_string(provided) + "; dptrain needs MPI_THREAD_FUNNELED (" +
                             std::to_string(MPI_THREAD_FUNNELED) + ") or more");
  }
}

MpiEnvironment::~MpiEnvironment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

struct MpiCommunicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  double stall_timeout_s = 300.0;
  // How long a wait spins before it yields (wait_backoff.hpp).
  double spin_s = wait_spin_seconds();
  std::vector<MPI_Request> pending;
  std::vector<const char*> pending_phases;
  std::vector<std::string> hosts;  // every rank's host (MPI_Get_processor_name), in rank order
  bool several_hosts = false;

  // "3", or "3 on host node07" when the job spans several hosts: a failure report must say
  // which machine to look at.
  std::string rank_on_host(int r) const {
    const bool known = several_hosts && r >= 0 && r < static_cast<int>(hosts.size());
    return known ? std::to_string(r) + " on host " + hosts[r] : std::to_string(r);
  }

  // Gathered once at start, while every rank is alive: a stall report cannot ask a dead rank.
  void gather_hosts() {
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int len = 0;
    MPI_Get_processor_name(name, &len);
    std::vector<char> all(static_cast<std::size_t>(size) * MPI_MAX_PROCESSOR_NAME);
    MPI_Request request;
    check(MPI_Iallgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                         MPI_CHAR, comm, &request),
          "MPI_Iallgather");
    wait(request, "host names");
    for (int r = 0; r < size; ++r) {
      const char* h = all.data() + static_cast<std::size_t>(r) * MPI_MAX_PROCESSOR_NAME;
      hosts.emplace_back(h, strnlen(h, MPI_MAX_PROCESSOR_NAME));
      several_hosts = several_hosts || hosts.back() != hosts.front();
    }
  }

  // Waits for `request`, polling; past the stall timeout, reports and aborts the job:
  // a peer that never arrives cannot be recovered from inside MPI. Open MPI moves shared-memory
  // transfers only inside MPI calls, so a waiting rank polls, backing off (WaitBackoff).
  void wait(MPI_Request& request, const char* phase, MPI_Status* status = MPI_STATUS_IGNORE) {
    int done = 0;
    check(MPI_Test(&request, &done, status), "MPI_Test");
    if (done) return;
    WaitBackoff backoff(spin_s);
    while (true) {
      check(MPI_Test(&request, &done, status), "MPI_Test");
      if (done) return;
      const double waited = backoff.pause();
      if (stall_timeout_s > 0 && waited > stall_timeout_s) report_stall_and_abort(phase, waited);
    }
  }

  // Finds out which ranks are missing: every waiting rank announces itself to all others
  // with a small eager message and listens for the others' announcements for a few
  // seconds. Ranks that never announce are the dead or stalled ones.
  [[noreturn]] void report_stall_and_abort(const char* phase, double waited) {
    constexpr int kPresenceTag = 7401;
    int me = rank;
    std::vector<MPI_Request> sends, receives(size, MPI_REQUEST_NULL);
    std::vector<int> inbox(size, -1);
    for (int q = 0; q < size; ++q) {
      if (q == rank) continue;
      MPI_Request r;
      MPI_Isend(&me, 1, MPI_INT, q, kPresenceTag, comm, &r);
      sends.push_back(r);
      MPI_Irecv(&inbox[q], 1, MPI_INT, q, kPresenceTag, comm, &receives[q]);
    }
    const double start = now_seconds();
    const double grace = std::min(5.0, std::max(1.0, stall_timeout_s / 4));
    std::vector<int> arrived(size, 0);
    arrived[rank] = 1;
    while (now_seconds() - start < grace) {
      bool all = true;
      for (int q = 0; q < size; ++q) {
        if (arrived[q]) continue;
        int done = 0;
        MPI_Test(&receives[q], &done, MPI_STATUS_IGNORE);
        arrived[q] = done;
        all = all && done;
      }
      if (all) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string missing;
    for (int q = 0; q < size; ++q)
      if (!arrived[q]) missing += (missing.empty() ? "" : ", ") + rank_on_host(q);
    // The lowest rank that is still alive reports; the others only abort.
    const bool reporter = std::find(arrived.begin(), arrived.end(), 1) - arrived.begin() == rank;
    if (reporter) std::fprintf(stderr,
                 "dptrain: error: rank %s waited %.0f s in '%s' (--stall-timeout %.0f); rank(s) %s "
                 "did not arrive (dead or stalled); aborting the job\n",
                 rank_on_host(rank).c_str(), waited, phase, stall_timeout_s,
                 missing.empty() ? "(none found; the collective itself is stuck)" : missing.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, kStallExitCode);
    std::_Exit(kStallExitCode);
  }

  template <class T>
  void allreduce(std::span<T> data, MPI_Datatype type, MPI_Op op, const char* phase) {
    const std::size_t piece = std::max<std::size_t>(1, kMaxPieceBytes / sizeof(T));
    for (std::size_t off = 0; off < data.size(); off += piece) {
      const int n = static_cast<int>(std::min(piece, data.size() - off));
      MPI_Request request;
      check(MPI_Iallreduce(MPI_IN_PLACE, data.data() + off, n, type, op, comm, &request),
            "MPI_Iallreduce");
      wait(request, phase);
    }
    if (data.empty()) {  // keep every rank in step even for empty buffers
      MPI_Request request;
      check(MPI_Ibarrier(comm, &request), "MPI_Ibarrier");
      wait(request, phase);
    }
  }
};

MpiCommunicator::MpiCommunicator(double stall_timeout_s) : impl_(std::make_unique<Impl>()) {
  check(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(impl_->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(impl_->comm, &impl_->rank);
  MPI_Comm_size(impl_->comm, &impl_->size);
  impl_->stall_timeout_s = stall_timeout_s;
  impl_->gather_hosts();
}

MpiCommunicator::~MpiCommunicator() {
  if (impl_->comm != MPI_COMM_NULL) MPI_Comm_free(&impl_->comm);
}

int MpiCommunicator::rank() const { return impl_->rank; }
int MpiCommunicator::size() const { return impl_->size; }
void MpiCommunicator::set_stall_timeout(double s) { impl_->stall_timeout_s = s; }

void MpiCommunicator::allreduce_sum(std::span<float> d, const char* phase) {
  impl_->allreduce(d, MPI_FLOAT, MPI_SUM, phase);
}
void MpiCommunicator::allreduce_sum(std::span<double> d, const char* phase) {
  impl_->allreduce(d, MPI_DOUBLE, MPI_SUM, phase);
}
void MpiCommunicator::allreduce_sum(std::span<std::int64_t> d, const char* phase) {
  impl_->allreduce(d, MPI_INT64_T, MPI_SUM, phase);
}
void MpiCommunicator::allreduce_max(std::span<double> d, const char* phase) {
  impl_->allreduce(d, MPI_DOUBLE, MPI_MAX, phase);
}

void MpiCommunicator::start_allreduce_sum(std::span<float> d, const char* phase) {
  const std::size_t piece = kMaxPieceBytes / sizeof(float);
  for (std::size_t off = 0; off < d.size(); off += piece) {
    const int n = static_cast<int>(std::min(piece, d.size() - off));
    MPI_Request request;
    check(MPI_Iallreduce(MPI_IN_PLACE, d.data() + off, n, MPI_FLOAT, MPI_SUM, impl_->comm, &request),
          "MPI_Iallreduce");
    impl_->pending.push_back(request);
    impl_->pending_phases.push_back(phase);
  }
}

void MpiCommunicator::progress() {
  if (impl_->pending.empty()) return;
  int done = 0;
  MPI_Testall(static_cast<int>(impl_->pending.size()), impl_->pending.data(), &done,
              MPI_STATUSES_IGNORE);
}

void MpiCommunicator::finish_pending() {
  for (std::size_t i = 0; i < impl_->pending.size(); ++i)
    if (impl_->pending[i] != MPI_REQUEST_NULL) impl_->wait(impl_->pending[i], impl_->pending_phases[i]);
  impl_->pending.clear();
  impl_->pending_phases.clear();
}

namespace {

// MPI counts and displacements of the parts (int: a part beyond 2^31 values is refused).
std::pair<std::vector<int>, std::vector<int>> part_counts(std::span<const std::size_t> parts, const char* phase) {
  std::vector<int> counts, displs;
  for (std::size_t r = 0; r + 1 < parts.size(); ++r) {
    if (parts[r + 1] > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw CommunicationError(std::string(phase) + ": a buffer of " + std::to_string(parts.back()) +
                               " values is beyond one MPI message");
    counts.push_back(static_cast<int>(parts[r + 1] - parts[r]));
    displs.push_back(static_cast<int>(parts[r]));
  }
  return {counts, displs};
}

}  // namespace

// One collective each, whatever the size: sending a part as reduces (or broadcasts) to and from
// its owner in 16 MB pieces, as allreduce_sum does, measured 3-5x slower for an 80 MB gradient
// here (BENCHMARKS.md, "Sharded update").
void MpiCommunicator::reduce_scatter_sum(std::span<const float> d, std::span<float> part,
                                         std::span<const std::size_t> parts, const char* phase) {
  const auto [counts, displs] = part_counts(parts, phase);
  MPI_Request request;
  check(MPI_Ireduce_scatter(d.data(), part.data(), counts.data(), MPI_FLOAT, MPI_SUM, impl_->comm, &request),
        "MPI_Ireduce_scatter");
  impl_->wait(request, phase);
}

void MpiCommunicator::allgather_parts(std::span<float> d, std::span<const std::size_t> parts, const char* phase) {
  const auto [counts, displs] = part_counts(parts, phase);
  MPI_Request request;
  check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, d.data(), counts.data(), displs.data(), MPI_FLOAT,
                        impl_->comm, &request),
        "MPI_Iallgatherv");
  impl_->wait(request, phase);
}

void MpiCommunicator::broadcast(std::span<float> d, int root) {
  MPI_Request request;
  check(MPI_Ibcast(d.data(), static_cast<int>(d.size()), MPI_FLOAT, root, impl_->comm, &request),
        "MPI_Ibcast");
  impl_->wait(request, "broadcast");
}

void MpiCommunicator::broadcast(std::string& text, int root) {
  long long length = static_cast<long long>(text.size());
  MPI_Request request;
  check(MPI_Ibcast(&length, 1, MPI_LONG_LONG, root, impl_->comm, &request), "MPI_Ibcast");
  impl_->wait(request, "broadcast");
  text.resize(static_cast<std::size_t>(length));
  check(MPI_Ibcast(text.data(), static_cast<int>(length), MPI_CHAR, root, impl_->comm, &request),
        "MPI_Ibcast");
  impl_->wait(request, "broadcast");
}

std::vector<std::string> MpiCommunicator::allgather(const std::string& text) {
  int length = static_cast<int>(text.size());
  std::vector<int> lengths(impl_->size);
  MPI_Request request;
  check(MPI_Iallgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, impl_->comm, &request),
        "MPI_Iallgather");
  impl_->wait(request, "allgather");
  std::vector<int> offsets(impl_->size, 0);
  for (int r = 1; r < impl_->size; ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
  std::string all(static_cast<std::size_t>(offsets.back() + lengths.back()), '\0');
  check(MPI_Iallgatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(),
                        MPI_CHAR, impl_->comm, &request),
        "MPI_Iallgatherv");
  impl_->wait(request, "allgather");
  std::vector<std::string> out;
  for (int r = 0; r < impl_->size; ++r) out.push_back(all.substr(offsets[r], lengths[r]));
  return out;
}

void MpiCommunicator::barrier() {
  MPI_Request request;
  check(MPI_Ibarrier(impl_->comm, &request), "MPI_Ibarrier");
  impl_->wait(request, "barrier");
}

void MpiCommunicator::send(std::span<const float> d, int dest, const char* phase) {
  MPI_Request request;
  check(MPI_Isend(d.data(), message_count(d.size(), phase), MPI_FLOAT, dest, kPointToPointTag,
                  impl_->comm, &request),
        "MPI_Isend");
  impl_->wait(request, phase);
}

void MpiCommunicator::recv(std::span<float> d, int source, const char* phase) {
  MPI_Request request;
  MPI_Status status;
  const int expected = message_count(d.size(), phase);
  check(MPI_Irecv(d.data(), expected, MPI_FLOAT, source, kPointToPointTag, impl_->comm, &request),
        "MPI_Irecv");
  impl_->wait(request, phase, &status);
  int count = 0;
  MPI_Get_count(&status, MPI_FLOAT, &count);
  if (count != expected)
    throw CommunicationError(std::string(phase) + ": expected " + std::to_string(expected) +
                " values from rank " + std::to_string(source) + ", received " +
                std::to_string(count));
}

std::unique_ptr<NodeSharedMemory> MpiCommunicator::allocate_node_shared(std::size_t bytes, std::string& why_not) {
  return allocate_mpi_node_shared(impl_->comm, bytes, impl_->spin_s, impl_->stall_timeout_s, why_not,
                                  [this](MPI_Request& request) { impl_->wait(request, "node shared memory setup"); });
}

std::string MpiCommunicator::rank_on_host(int rank) const { return impl_->rank_on_host(rank); }

std::string MpiCommunicator::processor_name() const {
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  return std::string(name, len);
}

}  // namespace dptrain
