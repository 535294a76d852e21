#pragma once
// Deterministic randomness for the generator: xoshiro256** seeded through splitmix64, and the few
// distributions the world model needs, written out here because std::normal_distribution and
// friends are implementation-defined and would give other bytes with another standard library.
// Not thread-safe: each phase of the generator owns its own Rng, derived with Rng::Stream.
#include <cmath>
#include <cstdint>
#include <vector>

namespace sluice::gen {

inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) word = SplitMix64(&seed);
  }
  // An independent stream per (seed, purpose), so that changing how one phase draws numbers
  // does not shift the numbers of every phase after it.
  static Rng Stream(uint64_t seed, uint64_t purpose) {
    uint64_t mix = seed ^ (purpose * 0xd1342543de82ef95ULL);
    return Rng(SplitMix64(&mix));
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // [0, n) for n > 0 (Lemire's multiply; the bias is below 2^-40 for the sizes used here).
  int64_t Below(int64_t n) {
    return static_cast<int64_t>(
        (static_cast<unsigned __int128>(Next()) * static_cast<uint64_t>(n)) >> 64);
  }
  // [lo, hi], both included.
  int64_t Between(int64_t lo, int64_t hi) { return lo + Below(hi - lo + 1); }
  bool Chance(double p) { return Uniform() < p; }
  // Standard normal by Box-Muller, one value per call, so each draw costs a fixed two words.
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]: log stays finite
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Log-normal with the given median and log-space standard deviation.
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }
  // Poisson by inversion; fine for the small means the world model uses (trips per user).
  int Poisson(double mean) {
    double p = std::exp(-mean), cdf = p, u = Uniform();
    int k = 0;
    while (u > cdf && k < 1000) {
      ++k;
      p *= mean / k;
      cdf += p;
    }
    return k;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Samples index i with probability weights[i] / sum in O(1) (Vose's alias method).
// Immutable after construction; Sample is const and may be called from any thread with its own Rng.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights);
  size_t size() const { return prob_.size(); }
  int32_t Sample(Rng& rng) const;

 private:
  std::vector<double> prob_;
  std::vector<int32_t> alias_;
};

// Samples from a weighted list of ids by binary search over cumulative weights; cheaper to build
// than an AliasTable, which matters for the many small per-city lists.
class WeightedIds {
 public:
  void Add(int32_t id, double weight);
  bool empty() const { return ids_.empty(); }
  size_t size() const { return ids_.size(); }
  int32_t Sample(Rng& rng) const;

 private:
  std::vector<int32_t> ids_;
  std::vector<double> cumulative_;
};

}  // namespace sluice::gen
