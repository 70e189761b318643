// The step's float products, single thread, by each GEMM library this machine has: oneDNN's
// dnnl_sgemm, BLIS (cblas_sgemm) and Eigen 3.4 (scripts/bench_gemm_libraries.sh builds and runs
// it; OpenBLAS is measured there through NumPy). Column-major, as the model multiplies; GFLOP/s
// from the median of 400 warm products.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <dnnl.h>
extern "C" {
#include <cblas.h>
}

namespace {

template <class F>
double gflops(F product, double flops) {
  std::vector<double> seconds;
  product();
  for (int r = 0; r < 400; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    product();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return flops / seconds[seconds.size() / 2] / 1e9;
}

}  // namespace

int main() {
  // C (m x n) = op(A) op(B), k deep; mlp:256,128 at a rank's 128 rows (network.cpp's products).
  struct Shape {
    const char* name;
    int m, n, k;
    bool ta, tb;
  };
  const Shape shapes[] = {{"forward, 256x784 by 784x128", 256, 128, 784, false, false},
                          {"weight gradient, 256x128 by (784x128)^T", 256, 784, 128, false, true},
                          {"forward, 128x256 by 256x128", 128, 128, 256, false, false},
                          {"input gradient, (128x256)^T by 128x128", 256, 128, 128, true, false},
                          {"softmax forward, 10x784 by 784x128", 10, 128, 784, false, false}};
  std::printf("| product (column-major C = op(A) op(B)) | oneDNN %d.%d.%d | BLIS | Eigen %d.%d.%d |\n|---|---:|---:|---:|\n",
              dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch, EIGEN_WORLD_VERSION,
              EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
  for (const Shape& s : shapes) {
    const Eigen::MatrixXf a = Eigen::MatrixXf::Random(s.ta ? s.k : s.m, s.ta ? s.m : s.k);
    const Eigen::MatrixXf b = Eigen::MatrixXf::Random(s.tb ? s.n : s.k, s.tb ? s.k : s.n);
    Eigen::MatrixXf c(s.m, s.n);
    const double flops = 2.0 * s.m * s.n * s.k;
    // oneDNN is row-major: the column-major C = op(A) op(B) is the row-major C' = op(B)' op(A)'.
    const double onednn = gflops([&] {
      dnnl_sgemm(s.tb ? 'T' : 'N', s.ta ? 'T' : 'N', s.n, s.m, s.k, 1.0f, b.data(), b.rows(), a.data(), a.rows(), 0.0f,
                 c.data(), s.m);
    }, flops);
    const double blis = gflops([&] {
      cblas_sgemm(CblasColMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.m, s.n, s.k,
                  1.0f, a.data(), a.rows(), b.data(), b.rows(), 0.0f, c.data(), s.m);
    }, flops);
    const double eigen = gflops([&] {
      if (s.ta) c.noalias() = a.transpose() * b;
      else if (s.tb) c.noalias() = a * b.transpose();
      else c.noalias() = a * b;
    }, flops);
    std::printf("| %s | %.0f | %.0f | %.0f |\n", s.name, onednn, blis, eigen);
  }
}
