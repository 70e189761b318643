#include "model/gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <string>

#ifdef DPTRAIN_WITH_ONEDNN
#include <dnnl.h>
#endif

#include "dptrain/error.hpp"

namespace dptrain::detail {
namespace {

template <class T>
using Strided = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;

template <class T>
void eigen_gemm(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, const T* a,
                Eigen::Index lda, const T* b, Eigen::Index ldb, T* c, Eigen::Index ldc) {
  Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>> out(c, m, n,
                                                                                             Eigen::OuterStride<>(ldc));
  const Strided<T> A(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
  const Strided<T> B(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
  if (trans_a && trans_b) out.noalias() = A.transpose() * B.transpose();
  else if (trans_a) out.noalias() = A.transpose() * B;
  else if (trans_b) out.noalias() = A * B.transpose();
  else out.noalias() = A * B;
}

}  // namespace

template <>
void gemm<double>(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, const double* a,
                  Eigen::Index lda, const double* b, Eigen::Index ldb, double* c, Eigen::Index ldc) {
  eigen_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
}

template <>
void gemm<float>(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, const float* a,
                 Eigen::Index lda, const float* b, Eigen::Index ldb, float* c, Eigen::Index ldc) {
#ifdef DPTRAIN_WITH_ONEDNN
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (Eigen::Index j = 0; j < n; ++j) std::fill(c + j * ldc, c + j * ldc + m, 0.0f);
    return;
  }
  // oneDNN's sgemm is row-major; a column-major C = op(A) op(B) is the row-major
  // C' = op(B)' op(A)'. Outside a parallel region it would use omp_get_max_threads() threads:
  // one, for the duration of the call.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads != 1) omp_set_num_threads(1);
  const dnnl_status_t status = dnnl_sgemm(trans_b ? 'T' : 'N', trans_a ? 'T' : 'N', n, m, k, 1.0f, b, ldb, a, lda,
                                          0.0f, c, ldc);
  if (threads != 1) omp_set_num_threads(threads);
  if (status != dnnl_success)
    throw InternalError("oneDNN sgemm (" + std::to_string(m) + " x " + std::to_string(k) + " by " + std::to_string(k) +
                        " x " + std::to_string(n) + ") failed with status " + std::to_string(static_cast<int>(status)));
#else
  eigen_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
#endif
}

std::string gemm_backend() {
#ifdef DPTRAIN_WITH_ONEDNN
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         " sgemm";
#else
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION);
#endif
}

}  // namespace dptrain::detail
