/* The alternative to dptrain predict's ordered gather, measured by scripts/bench_parallel_write.sh:
   every rank writes its own contiguous block of rows of /predictions (int64 [N]) and
   /probabilities (float32 [N, C]) into one file with parallel HDF5 (MPI-IO driver, collective
   transfers). Prints the slowest rank's seconds from create to close as JSON.
   Build: mpicc parallel_write.c $(pkg-config --cflags --libs hdf5-openmpi) */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 4) {
    if (rank == 0) fprintf(stderr, "usage: parallel_write OUT.h5 ROWS CLASSES\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const hsize_t rows = strtoull(argv[2], NULL, 10), classes = strtoull(argv[3], NULL, 10);
  const hsize_t begin = rows * rank / size, end = rows * (rank + 1) / size, mine = end - begin;
  long long* ids = malloc(mine * sizeof *ids);
  float* probs = malloc(mine * classes * sizeof *probs);
  for (hsize_t i = 0; i < mine; ++i) {
    ids[i] = (long long)((begin + i) % classes);
    for (hsize_t c = 0; c < classes; ++c) probs[i * classes + c] = 1.0f / (float)classes;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
  hid_t file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  hid_t xfer = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE);
  hsize_t dims[2] = {rows, classes}, start[2] = {begin, 0}, count[2] = {mine, classes};
  for (int d = 0; d < 2; ++d) {
    const int ndims = d == 0 ? 1 : 2;
    hid_t space = H5Screate_simple(ndims, dims, NULL);
    hid_t dset = H5Dcreate2(file, d == 0 ? "/predictions" : "/probabilities",
                            d == 0 ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT, space, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t mem = H5Screate_simple(ndims, count, NULL);
    H5Dwrite(dset, d == 0 ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT, mem, space, xfer,
             d == 0 ? (const void*)ids : (const void*)probs);
    H5Sclose(mem);
    H5Dclose(dset);
    H5Sclose(space);
  }
  H5Pclose(xfer);
  H5Fclose(file);
  H5Pclose(fapl);
  double seconds = MPI_Wtime() - t0, slowest = 0;
  MPI_Reduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rank == 0) printf("{\"ranks\": %d, \"rows\": %llu, \"write_s\": %.4f}\n", size, (unsigned long long)rows, slowest);
  free(ids);
  free(probs);
  MPI_Finalize();
  return 0;
}
