// bench_ftrl: FTRL-Proximal updates per second on one core, against the limit measured in the
// same run: a plain dot-product pass over the same examples and a weight vector of the same
// dimension (read every index and value, gather one weight each, no update). An update has to do
// at least that much memory traffic, so updates/s / dot-products/s is the share of the limit
// reached (≤ 1 in principle; the learner also writes z and n and computes two square roots and
// a division per feature).
//
//   bench_ftrl [--examples N] [--nnz K] [--dim D] [--reps R] [--seed S] [--ahead A] [--batch B]
//
// Two ways to learn the same stream, timed interleaved with the limit: LearnBatch over B
// examples a call (default 1024; the headline figure, ftrl_updates_per_s) and one LearnSparse
// per example, asked to prefetch the state of the example A positions ahead (default 2;
// sequential_updates_per_s).
//
// Examples have K distinct features drawn uniformly from D (hashed-feature style), values 1 or
// a normal draw; labels come from a fixed logistic model. Prints one JSON object; medians of R.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sluice/models/ftrl.h"

namespace {

struct Data {
  size_t n = 0, nnz = 0;
  std::vector<uint32_t> idx;
  std::vector<double> val, y;
};

Data Make(size_t n, size_t nnz, size_t dim, uint64_t seed) {
  Data d{n, nnz, std::vector<uint32_t>(n * nnz), std::vector<double>(n * nnz),
         std::vector<double>(n)};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  std::vector<double> truth(dim);
  for (double& t : truth) t = nd(rng) * 0.3;
  for (size_t e = 0; e < n; ++e) {
    double m = -1.0;
    for (size_t k = 0; k < nnz; ++k) {
      uint32_t i;
      do {  // distinct within the example, as Algorithm 1's feature set I is a set
        i = static_cast<uint32_t>(rng() % dim);
      } while (std::find(&d.idx[e * nnz], &d.idx[e * nnz + k], i) != &d.idx[e * nnz + k]);
      d.idx[e * nnz + k] = i;
      d.val[e * nnz + k] = (rng() & 1) ? 1.0 : nd(rng);
      m += truth[i] * d.val[e * nnz + k];
    }
    d.y[e] = std::uniform_real_distribution<double>()(rng) < 1 / (1 + std::exp(-m)) ? 1.0 : 0.0;
  }
  return d;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The limit: x . w for every example, nothing else.
double DotPass(const Data& d, const std::vector<double>& w, double* sink) {
  const auto t0 = std::chrono::steady_clock::now();
  double total = 0;
  for (size_t e = 0; e < d.n; ++e) {
    const uint32_t* idx = &d.idx[e * d.nnz];
    const double* val = &d.val[e * d.nnz];
    double m = 0;
    for (size_t k = 0; k < d.nnz; ++k) m += w[idx[k]] * val[k];
    total += m;
  }
  *sink += total;
  return Seconds(t0);
}

// One LearnSparse call per example, prefetching the state of the example `ahead` positions
// later: its addresses are known, and a few examples of lead cover a miss to memory (2^20
// coordinates do not fit in cache).
double SequentialPass(const Data& d, size_t dim, size_t ahead, double* sink) {
  auto l = sluice::models::FtrlLearner::Make(dim, {});
  const auto t0 = std::chrono::steady_clock::now();
  double psum = 0;
  for (size_t e = 0; e < d.n; ++e) {
    if (e + ahead < d.n) l->Prefetch({&d.idx[(e + ahead) * d.nnz], d.nnz});
    psum += l->LearnSparse({&d.idx[e * d.nnz], d.nnz}, {&d.val[e * d.nnz], d.nnz}, d.y[e]);
  }
  const double s = Seconds(t0);
  *sink += psum + l->Bias();
  return s;
}

// LearnBatch over `batch` examples per call (it prefetches ahead itself).
double BatchPass(const Data& d, size_t dim, size_t batch, std::vector<double>* p, double* sink) {
  auto l = sluice::models::FtrlLearner::Make(dim, {});
  std::vector<size_t> offsets(d.n + 1);
  for (size_t e = 0; e <= d.n; ++e) offsets[e] = e * d.nnz;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t e = 0; e < d.n; e += batch) {
    const size_t m = std::min(batch, d.n - e);
    l->LearnBatch(d.idx, d.val, std::span(offsets).subspan(e, m + 1), std::span(d.y).subspan(e, m),
                  std::span(*p).subspan(e, m));
  }
  const double s = Seconds(t0);
  double psum = 0;
  for (double v : *p) psum += v;
  *sink += psum + l->Bias();
  return s;
}

// Progressive validation log loss (each example scored before it is learned), outside the
// timing: shows the learner learns on this stream.
double ProgressiveLogLoss(const Data& d, size_t dim) {
  auto l = sluice::models::FtrlLearner::Make(dim, {});
  double loss = 0;
  for (size_t e = 0; e < d.n; ++e) {
    const double p = l->LearnSparse({&d.idx[e * d.nnz], d.nnz}, {&d.val[e * d.nnz], d.nnz}, d.y[e]);
    loss -= std::log(std::max(1e-15, d.y[e] > 0 ? p : 1 - p));
  }
  return loss / static_cast<double>(d.n);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 1000000, nnz = 20, dim = size_t{1} << 20, reps = 5, ahead = 2, batch = 1024;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const unsigned long long v = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--examples"))
      n = v;
    else if (!std::strcmp(argv[i], "--nnz"))
      nnz = v;
    else if (!std::strcmp(argv[i], "--dim"))
      dim = v;
    else if (!std::strcmp(argv[i], "--reps"))
      reps = v;
    else if (!std::strcmp(argv[i], "--ahead"))
      ahead = v;
    else if (!std::strcmp(argv[i], "--batch"))
      batch = v;
    else if (!std::strcmp(argv[i], "--seed"))
      seed = v;
    else
      return std::fprintf(stderr, "bench_ftrl: unknown flag %s\n", argv[i]), 2;
  }
  if (nnz > dim || reps == 0 || batch == 0)
    return std::fprintf(stderr, "bench_ftrl: bad sizes\n"), 2;
  const Data d = Make(n, nnz, dim, seed);
  std::vector<double> w(dim, 0.5);
  std::vector<double> learn_s, seq_s, dot_s, p(n);
  double sink = 0, logloss = 0;
  for (size_t r = 0; r < reps; ++r) {  // interleaved, so machine noise hits all alike
    dot_s.push_back(DotPass(d, w, &sink));
    learn_s.push_back(BatchPass(d, dim, batch, &p, &sink));
    seq_s.push_back(SequentialPass(d, dim, ahead, &sink));
  }
  const double learn = Median(learn_s), seq = Median(seq_s), dot = Median(dot_s);
  logloss = ProgressiveLogLoss(d, dim);
  std::printf(
      "{\"examples\":%zu,\"nnz\":%zu,\"dim\":%zu,\"reps\":%zu,\"batch\":%zu,\"ahead\":%zu,"
      "\"ftrl_seconds\":%.4f,\"ftrl_updates_per_s\":%.0f,\"sequential_updates_per_s\":%.0f,"
      "\"dot_seconds\":%.4f,\"dot_examples_per_s\":%.0f,\"ratio_to_limit\":%.3f,"
      "\"target_updates_per_s\":5000000,\"target_met\":%s,\"final_logloss\":%.4f,\"sink\":%g}\n",
      n, nnz, dim, reps, batch, ahead, learn, n / learn, n / seq, dot, n / dot, dot / learn,
      n / learn >= 5e6 ? "true" : "false", logloss, sink);
  return 0;
}
