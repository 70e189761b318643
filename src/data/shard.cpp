#include "dptrain/shard.hpp"

#include <cmath>

namespace dptrain {

ShardRange shard_range(std::int64_t rows, int ranks, int rank) {
  const std::int64_t base = rows / ranks;
  const std::int64_t extra = rows % ranks;
  const std::int64_t begin = rank * base + (rank < extra ? rank : extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

int shard_owner(std::int64_t rows, int ranks, std::int64_t row) {
  const std::int64_t base = rows / ranks;
  const std::int64_t extra = rows % ranks;
  const std::int64_t big = extra * (base + 1);  // rows held by the ranks with one extra row
  if (row < big) return static_cast<int>(row / (base + 1));
  return static_cast<int>(extra + (row - big) / base);
}

GlobalPermutation::GlobalPermutation(std::uint64_t n, std::uint64_t seed, std::uint64_t epoch)
    : n_(n) {
  unsigned bits = 2;
  while (bits < 64 && (std::uint64_t{1} << bits) < n) ++bits;
  if (bits % 2) ++bits;
  half_bits_ = bits / 2;
  half_mask_ = (std::uint64_t{1} << half_bits_) - 1;
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull ^ (epoch + 1) * 0xD1B54A32D192ED03ull;
  for (auto& k : keys_) k = splitmix64(state);
}

std::uint64_t GlobalPermutation::encrypt(std::uint64_t x) const {
  std::uint64_t left = x >> half_bits_;
  std::uint64_t right = x & half_mask_;
  for (std::uint64_t key : keys_) {
    std::uint64_t mix = right ^ key;
    const std::uint64_t f = splitmix64(mix) & half_mask_;
    const std::uint64_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

std::uint64_t GlobalPermutation::decrypt(std::uint64_t x) const {
  std::uint64_t left = x >> half_bits_;
  std::uint64_t right = x & half_mask_;
  for (int i = 3; i >= 0; --i) {
    std::uint64_t mix = left ^ keys_[i];
    const std::uint64_t f = splitmix64(mix) & half_mask_;
    const std::uint64_t previous = right ^ f;
    right = left;
    left = previous;
  }
  return (left << half_bits_) | right;
}

std::uint64_t GlobalPermutation::inverse(std::uint64_t row) const {
  // Walking back through the same cycle: the values skipped on the way forward are >= n.
  std::uint64_t x = decrypt(row);
  while (x >= n_) x = decrypt(x);
  return x;
}

std::uint64_t GlobalPermutation::operator()(std::uint64_t position) const {
  // Cycle walking: the Feistel network permutes [0, 2^bits); re-encrypt until inside [0, n).
  std::uint64_t x = encrypt(position);
  while (x >= n_) x = encrypt(x);
  return x;
}

double Random::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u = 0;
  while (u <= 0) u = uniform();
  const double v = uniform();
  const double r = std::sqrt(-2.0 * std::log(u));
  spare_ = r * std::sin(2 * M_PI * v);
  has_spare_ = true;
  return r * std::cos(2 * M_PI * v);
}

}  // namespace dptrain
