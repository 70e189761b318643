/* Allreduce bandwidth, measured by scripts/bench_multihost.sh: MPI_Allreduce (float32 sum,
   in place, as dptrain reduces gradients), blocking and nonblocking (MPI_Iallreduce + MPI_Wait,
   dptrain's path), for message sizes from 4 KiB to MAX_MIB. For each size and kind: three
   warm-up calls, then 10 timed batches lasting about MIN_S seconds together; the time per
   call is that of the fastest batch, as the slowest rank saw it. Prints one JSON line per size with the time per call and
     busbw = algbw * 2 (p - 1) / p,   algbw = bytes / time
   (busbw is what each link carries in a ring or reduce-scatter + allgather algorithm, the way
   NCCL's tests report it; it is comparable across rank counts and with a link's bandwidth).
   Build: mpicc -O2 allreduce_bw.c -o allreduce_bw     Usage: allreduce_bw [MAX_MIB] [MIN_S] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One in-place float32 sum of n values: MPI_Allreduce, or (as dptrain does) MPI_Iallreduce
   completed by MPI_Wait. The two can take different algorithms: Open MPI's blocking
   collectives come from coll/tuned (or coll/han), nonblocking ones from coll/libnbc. */
static void allreduce(float* data, int n, int nonblocking) {
  if (nonblocking) {
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
  } else {
    MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  }
}

/* Seconds per call: the fastest of 10 samples, each the slowest rank's mean over a batch of
   calls (valid on rank 0). On a shared, busy machine the fastest sample is the one least
   disturbed by other processes. Three warm-up calls also size the batches: rank 0 picks a
   call count so that the 10 samples last about min_s together. */
static double seconds_per_call(float* data, int n, double min_s, int nonblocking) {
  enum { kSamples = 10 };
  double t0 = MPI_Wtime();
  for (int i = 0; i < 3; ++i) allreduce(data, n, nonblocking);
  long calls = (long)(min_s / kSamples / ((MPI_Wtime() - t0) / 3));
  if (calls < 3) calls = 3;
  MPI_Bcast(&calls, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  double best = 1e30;
  for (int sample = 0; sample < kSamples; ++sample) {
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    for (long i = 0; i < calls; ++i) allreduce(data, n, nonblocking);
    double per_call = (MPI_Wtime() - t0) / (double)calls, slowest = 0;
    MPI_Reduce(&per_call, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (slowest < best) best = slowest;
  }
  return best;
}

static void report(const char* name, size_t bytes, double seconds, int size) {
  const double algbw = (double)bytes / seconds / 1e9;
  printf(", \"%s_us\": %.1f, \"%s_busbw_GBps\": %.3f", name, seconds * 1e6, name,
         algbw * 2.0 * (size - 1) / size);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const size_t max_bytes = (size_t)((argc > 1 ? atof(argv[1]) : 64.0) * 1024 * 1024);
  const double min_s = argc > 2 ? atof(argv[2]) : 0.5;
  float* data = malloc(max_bytes);
  for (size_t i = 0; i < max_bytes / sizeof(float); ++i) data[i] = 1.0f;  /* touch every page */
  for (size_t bytes = 4096; bytes <= max_bytes; bytes *= 4) {
    const int n = (int)(bytes / sizeof(float));
    const double blocking = seconds_per_call(data, n, min_s, 0);
    const double nonblocking = seconds_per_call(data, n, min_s, 1);
    if (rank == 0) {
      printf("{\"ranks\": %d, \"bytes\": %zu", size, bytes);
      report("blocking", bytes, blocking, size);
      report("nonblocking", bytes, nonblocking, size);
      printf("}\n");
      fflush(stdout);
    }
  }
  free(data);
  MPI_Finalize();
  return 0;
}
