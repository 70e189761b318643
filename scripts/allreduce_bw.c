/* Allreduce bandwidth, measured by scripts/bench_multihost.sh: MPI_Allreduce (float32 sum,
   in place, as dptrain reduces gradients) for message sizes from 4 KiB to 64 MiB. For each
   size: three warm-up calls, then timed calls for about MIN_S seconds; the time per call is
   the slowest rank's (rank 0 picks the call count). Prints one JSON line per size with
     algbw = bytes / time   and   busbw = algbw * 2 (p - 1) / p
   (busbw is what each link carries in a ring or reduce-scatter + allgather algorithm, the way
   NCCL's tests report it; it is comparable across rank counts and with a link's bandwidth).
   Build: mpicc -O2 allreduce_bw.c -o allreduce_bw     Usage: allreduce_bw [MAX_MIB] [MIN_S] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const size_t max_bytes = (size_t)(argc > 1 ? atof(argv[1]) : 64.0) * 1024 * 1024;
  const double min_s = argc > 2 ? atof(argv[2]) : 0.5;
  float* data = malloc(max_bytes);
  for (size_t i = 0; i < max_bytes / sizeof(float); ++i) data[i] = 1.0f;  /* touch every page */
  for (size_t bytes = 4096; bytes <= max_bytes; bytes *= 4) {
    const int n = (int)(bytes / sizeof(float));
    /* Warm-up calls also size the run: rank 0 picks a call count that lasts about min_s. */
    double t0 = MPI_Wtime();
    for (int i = 0; i < 3; ++i) MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    long calls = (long)(min_s / ((MPI_Wtime() - t0) / 3));
    if (calls < 5) calls = 5;
    MPI_Bcast(&calls, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    for (long i = 0; i < calls; ++i)
      MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double per_call = (MPI_Wtime() - t0) / (double)calls, slowest = 0;
    MPI_Reduce(&per_call, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      const double algbw = (double)bytes / slowest / 1e9;
      printf("{\"ranks\": %d, \"bytes\": %zu, \"calls\": %ld, \"us_per_call\": %.1f, \"algbw_GBps\": %.3f, "
             "\"busbw_GBps\": %.3f}\n",
             size, bytes, calls, slowest * 1e6, algbw, algbw * 2.0 * (size - 1) / size);
      fflush(stdout);
    }
  }
  free(data);
  MPI_Finalize();
  return 0;
}
