#pragma once
// Collectives over a group of ranks. The communicator only communicates; averaging,
// weighting by sample count and scaling happen in the trainer, where the meaning lives.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dptrain {

class NodeSharedMemory;

class Communicator {
 public:
  Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // In-place element-wise sum over all ranks; `phase` names the caller for stall reports.
  virtual void allreduce_sum(std::span<float> data, const char* phase) = 0;
  virtual void allreduce_sum(std::span<double> data, const char* phase) = 0;
  // Integer sums are exact and order-free: the basis of --deterministic training.
  virtual void allreduce_sum(std::span<std::int64_t> data, const char* phase) = 0;
  virtual void allreduce_max(std::span<double> data, const char* phase) = 0;
  // Starts an in-place sum that completes in finish_pending(), so a step can send finished
  // gradient buckets while backprop computes the rest. progress() lets started sums advance
  // (Open MPI moves nonblocking collectives only inside MPI calls). Every rank must start
  // the same sums in the same order.
  virtual void start_allreduce_sum(std::span<float> data, const char* phase) = 0;
  virtual void progress() {}
  virtual void finish_pending() = 0;
  // The sharded update (--shard-update): `parts` (size() + 1 offsets) cuts a buffer into one
  // consecutive part per rank, rank r's being [parts[r], parts[r + 1]).
  // reduce_scatter_sum: `part` (this rank's part's length) receives the sum over ranks of this
  // rank's part of `data`. allgather_parts: every rank's part of `data` is replaced by that
  // rank's own. The defaults use allreduce_sum (exact: the other ranks add zeros).
  virtual void reduce_scatter_sum(std::span<const float> data, std::span<float> part,
                                  std::span<const std::size_t> parts, const char* phase);
  virtual void allgather_parts(std::span<float> data, std::span<const std::size_t> parts, const char* phase);
  virtual void broadcast(std::span<float> data, int root) = 0;
  virtual void broadcast(std::string& text, int root) = 0;
  // Every rank receives every rank's string, in rank order.
  virtual std::vector<std::string> allgather(const std::string& text) = 0;
  virtual void barrier() = 0;

  // Memory shared by the ranks (a collective): a region of `bytes` for this rank (the ranks may
  // ask for different sizes, 0 too), when every rank of this group runs on one node and the
  // platform maps it; otherwise nullptr, and `why_not` says why.
  // The default has none.
  virtual std::unique_ptr<NodeSharedMemory> allocate_node_shared(std::size_t bytes, std::string& why_not);

  // Point-to-point: `data` goes to rank `dest`, which must call recv with the same length.
  // Messages between two ranks arrive in the order they were sent. The defaults throw, so
  // communicators that need no point-to-point transfers need not implement them.
  virtual void send(std::span<const float> data, int dest, const char* phase);
  virtual void recv(std::span<float> data, int source, const char* phase);
};

// Each rank says whether it failed (with a message and the exit code it would end with).
// Returns, on every rank, the failing rank with the lowest number, its message and exit
// code, or nothing if all succeeded.
struct AgreedFailure {
  int rank;
  std::string message;
  int exit_code = 1;
};
std::optional<AgreedFailure> agree_on_failure(Communicator& comm,
                                              const std::optional<std::string>& local_error,
                                              int local_exit_code = 1);

// Agrees on the failure (a collective every rank must call once some rank is known to have
// failed) and throws it as the same CollectiveFailure on every rank.
[[noreturn]] void agree_and_throw(Communicator& comm, const std::optional<std::string>& local_error);

// Agrees whether any rank failed (a collective every rank calls); if one did, every rank
// throws the same CollectiveFailure.
void throw_if_any_failed(Communicator& comm, const std::optional<std::string>& local_error);

// Runs `work` on every rank; if it throws on any rank, every rank throws the same
// CollectiveFailure (exit code 2 when the first failing rank threw a ConfigError). `work` must not call collectives itself.
void run_agreed(Communicator& comm, const std::function<void()>& work);

// Two flags that travel in the last two slots of a sum over ranks, so that a step learns
// whether any rank failed or was asked to stop without a collective of its own. Every
// reduction that carries flags uses this layout: [values..., failed, stop].
struct RankFlags {
  bool failed = false;
  bool stop = false;
};
constexpr std::size_t kFlagSlots = 2;

template <class T>
void write_flags(std::span<T> buffer, RankFlags flags) {
  buffer[buffer.size() - 2] = static_cast<T>(flags.failed ? 1 : 0);
  buffer[buffer.size() - 1] = static_cast<T>(flags.stop ? 1 : 0);
}
// After the sum: whether any rank set each flag.
template <class T>
RankFlags read_flags(std::span<const T> buffer) {
  return {buffer[buffer.size() - 2] > 0, buffer[buffer.size() - 1] > 0};
}
// Writes this rank's flags into the last two slots of `buffer`, sums it over ranks and
// returns the agreed flags.
template <class T>
RankFlags allreduce_flagged(Communicator& comm, std::span<T> buffer, RankFlags mine, const char* phase) {
  write_flags(buffer, mine);
  comm.allreduce_sum(buffer, phase);
  return read_flags(std::span<const T>(buffer));
}

// Sums `values` over ranks (with the failure flag behind them); if any rank failed, every
// rank throws that rank's message (agree_and_throw).
void allreduce_or_throw(Communicator& comm, std::vector<double>& values,
                        const std::optional<std::string>& local_error, const char* phase);

// Ranks as threads of one process, for unit tests of multi-rank logic. A group of
// `size` communicators; collectives reduce in rank order, so results are deterministic.
std::vector<std::unique_ptr<Communicator>> make_local_group(int size);

// Runs body(comm) on `size` threads, one per rank; rethrows the first exception.
void run_local_ranks(int size, const std::function<void(Communicator&)>& body);

}  // namespace dptrain
