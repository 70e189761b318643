#pragma once
// The model's matrix products: C = op(A) * op(B) for column-major matrices (samples are
// columns, network.cpp), op(X) = X or its transpose; C is m x n, op(A) m x k, op(B) k x n, and
// ld* are the column strides. Float products run oneDNN's sgemm when the build has it
// (DPTRAIN_WITH_ONEDNN): on this machine's AVX-512 cores it multiplies the model's shapes at
// 200-220 GFLOP/s where Eigen reaches 130-155 (BENCHMARKS.md, "oneDNN's sgemm and the fused
// node update"). Double products, and builds without oneDNN, use Eigen. Either way the
// product runs on the calling thread alone (the callers split the batch over threads).
#include <Eigen/Core>
#include <string>

namespace dptrain::detail {

template <class T>
void gemm(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, const T* a, Eigen::Index lda,
          const T* b, Eigen::Index ldb, T* c, Eigen::Index ldc);

// Which library multiplies float matrices ("oneDNN 2.6.3 sgemm" or "Eigen 3.4.0"), for reports.
std::string gemm_backend();

}  // namespace dptrain::detail
