// NodeSharedMemory over MPI-3 shared-memory windows: the node's ranks (MPI_Comm_split_type
// MPI_COMM_TYPE_SHARED) allocate one window with a region per rank and map every region.
#include "mpi_node_shared.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/statvfs.h>

#include "dptrain/exit_codes.hpp"
#include "dptrain/memory_budget.hpp"

namespace dptrain {
namespace {

class MpiNodeShared final : public NodeSharedMemory {
 public:
  MpiNodeShared(MPI_Comm node, MPI_Win win, std::vector<std::byte*> regions, double spin_s, double stall_s)
      : node_(node), win_(win), regions_(std::move(regions)), spin_s_(spin_s), stall_s_(stall_s) {
    MPI_Comm_rank(node_, &rank_);
  }
  // Collective: every rank of the node frees the window together (the trainer ends on every
  // rank together: failures are agreed before anything is torn down).
  ~MpiNodeShared() override {
    MPI_Win_free(&win_);
    MPI_Comm_free(&node_);
  }
  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(regions_.size()); }
  std::byte* region(int r) override { return regions_[static_cast<std::size_t>(r)]; }
  double spin_seconds() const override { return spin_s_; }
  double stall_timeout_seconds() const override { return stall_s_; }
  [[noreturn]] void abort_stalled(const std::string& message) override {
    if (!message.empty()) std::fprintf(stderr, "dptrain: error: %s\n", message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, kExitStall);
    std::_Exit(kExitStall);
  }

 private:
  MPI_Comm node_;
  MPI_Win win_;
  std::vector<std::byte*> regions_;
  double spin_s_, stall_s_;
  int rank_ = 0;
};

// Whether `ok` holds on every rank of `comm`.
bool all_ranks(MPI_Comm comm, bool ok, const std::function<void(MPI_Request&)>& wait) {
  int mine = ok ? 1 : 0, all = 0;
  MPI_Request request;
  if (MPI_Iallreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm, &request) != MPI_SUCCESS) return false;
  wait(request);
  return all == 1;
}

// Every rank's region, moved up to the next 64-byte boundary (Open MPI's segments start 8 bytes
// past a page; a segment's offset in its page is the same in every process that maps it).
std::vector<std::byte*> query_regions(MPI_Win win, int ranks) {
  std::vector<std::byte*> regions;
  for (int r = 0; r < ranks; ++r) {
    MPI_Aint size = 0;
    int disp = 0;
    void* base = nullptr;
    if (MPI_Win_shared_query(win, r, &size, &disp, &base) != MPI_SUCCESS || !base) return {};
    const auto address = reinterpret_cast<std::uintptr_t>(base);
    regions.push_back(static_cast<std::byte*>(base) + (64 - address % 64) % 64);
  }
  return regions;
}

// Where Open MPI puts the file behind a shared window: its osc_sm_backing_directory (mpirun
// --mca and OMPI_MCA_ reach a rank as this variable), /dev/shm by default.
std::string backing_directory() {
  const char* dir = std::getenv("OMPI_MCA_osc_sm_backing_directory");
  return dir && *dir ? dir : "/dev/shm";
}

// Why a window of `total` bytes (all ranks' regions) cannot fit in the backing directory, or ""
// when it can (or when the space cannot be read: the allocation then decides).
std::string backing_space_problem(std::uint64_t total) {
  const std::string dir = backing_directory();
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) return {};
  // Open MPI adds its own state and page-aligns each rank's region: a margin for both.
  constexpr std::uint64_t kMargin = 1 << 20;
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes >= total + kMargin) return {};
  return "the shared-memory window needs " + mebibytes(static_cast<double>(total + kMargin)) + " in " + dir +
         ", which has " + mebibytes(static_cast<double>(free_bytes)) +
         " free (a container's /dev/shm is often 64 MiB: docker run --shm-size; or point Open MPI elsewhere with "
         "--mca osc_sm_backing_directory DIR)";
}

}  // namespace

std::unique_ptr<NodeSharedMemory> allocate_mpi_node_shared(MPI_Comm comm, std::size_t bytes, double spin_s,
                                                           double stall_s, std::string& why_not,
                                                           const std::function<void(MPI_Request&)>& wait) {
  int size = 0, node_size = 0, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  MPI_Comm node = MPI_COMM_NULL;
  // Key 0 keeps the ranks' order: on one node, node rank r is rank r.
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS) {
    why_not = "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) failed";
    return nullptr;
  }
  MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN);
  MPI_Comm_size(node, &node_size);
  // Every node is smaller than the job exactly when the job spans several nodes.
  if (node_size != size) {
    why_not = "the ranks run on more than one node (this node has " + std::to_string(node_size) + " of " +
              std::to_string(size) + ")";
    MPI_Comm_free(&node);
    return nullptr;
  }
  const auto rounded = static_cast<MPI_Aint>((bytes + 4095) / 4096 * 4096);
  const MPI_Aint with_alignment = rounded + 64;
  // Open MPI 4's window does not survive a backing file that does not fit: the rank that makes
  // it fails while the others wait inside MPI_Win_allocate_shared for ever. So the ranks check
  // the space first, and agree.
  std::uint64_t mine = static_cast<std::uint64_t>(with_alignment), total = 0;
  MPI_Request request;
  MPI_Iallreduce(&mine, &total, 1, MPI_UINT64_T, MPI_SUM, node, &request);
  wait(request);
  const std::string space = backing_space_problem(total);
  if (!all_ranks(node, space.empty(), wait)) {
    why_not = space.empty() ? "another rank found too little shared memory for the window" : space;
    MPI_Comm_free(&node);
    return nullptr;
  }
  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "alloc_shared_noncontig", "true");  // each rank's region in its own pages
  void* base = nullptr;
  MPI_Win win = MPI_WIN_NULL;
  const bool allocated =
      MPI_Win_allocate_shared(with_alignment, 1, info, node, &base, &win) == MPI_SUCCESS && win != MPI_WIN_NULL;
  MPI_Info_free(&info);
  std::vector<std::byte*> regions = allocated ? query_regions(win, size) : std::vector<std::byte*>{};
  if (!regions.empty()) std::memset(regions[static_cast<std::size_t>(rank)], 0, static_cast<std::size_t>(rounded));
  // The zeros are in place on every rank before any rank uses the memory.
  if (!all_ranks(node, !regions.empty(), wait)) {
    why_not = "MPI_Win_allocate_shared (" + std::to_string(rounded) + " bytes on rank " + std::to_string(rank) +
              ") failed on some rank";
    if (win != MPI_WIN_NULL) MPI_Win_free(&win);
    MPI_Comm_free(&node);
    return nullptr;
  }
  return std::make_unique<MpiNodeShared>(node, win, std::move(regions), spin_s, stall_s);
}

}  // namespace dptrain
