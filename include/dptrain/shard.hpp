#pragma once
// Which rows a rank owns, and the global order in which rows are visited.
#include <cstdint>

namespace dptrain {

// The half-open block [begin, end) of rows owned by one rank. Blocks are contiguous,
// cover all rows, and differ in size by at most one row (the first N % p ranks get one more).
struct ShardRange {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t size() const { return end - begin; }
  bool contains(std::int64_t row) const { return row >= begin && row < end; }
};

ShardRange shard_range(std::int64_t rows, int ranks, int rank);

// The rank that owns `row` under shard_range(rows, ranks, .).
int shard_owner(std::int64_t rows, int ranks, std::int64_t row);

// A pseudo-random permutation of [0, n) defined only by (n, seed, epoch), evaluated
// position by position in O(1) memory: a 4-round Feistel network on the next power of two
// with cycle walking. Every rank computes the same order whatever the rank count, which is
// what makes p-rank training reproduce the 1-rank run.
class GlobalPermutation {
 public:
  GlobalPermutation(std::uint64_t n, std::uint64_t seed, std::uint64_t epoch);
  std::uint64_t operator()(std::uint64_t position) const;
  // The position at which `row` is visited: inverse(p(x)) == x.
  std::uint64_t inverse(std::uint64_t row) const;
  std::uint64_t size() const { return n_; }

 private:
  std::uint64_t encrypt(std::uint64_t x) const;
  std::uint64_t decrypt(std::uint64_t x) const;
  std::uint64_t n_;
  unsigned half_bits_;
  std::uint64_t half_mask_;
  std::uint64_t keys_[4];
};

// splitmix64: a small, well-mixed, portable generator step (same numbers on every platform).
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Portable random numbers for initialisation and synthetic data.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return splitmix64(state_); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal();
  std::uint64_t below(std::uint64_t n) { return next() % n; }

 private:
  std::uint64_t state_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace dptrain
