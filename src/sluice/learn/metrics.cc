#include "sluice/learn/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace sluice::learn {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Row indexes ordered by descending score (NaN scores last), ties kept together.
std::vector<size_t> ByScoreDesc(const float* scores, size_t n) {
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const bool na = std::isnan(scores[a]), nb = std::isnan(scores[b]);
    if (na != nb) return nb;
    return !na && scores[a] > scores[b];
  });
  return idx;
}

bool SameScore(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

double RocAuc(const float* scores, const float* labels, size_t n) {
  // The probability that a random positive outranks a random negative: walk the tie groups from
  // the highest score, counting pairs won outright and half of the pairs tied.
  const std::vector<size_t> idx = ByScoreDesc(scores, n);
  double pos_above = 0, won = 0, pos = 0, neg = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    double gp = 0, gn = 0;
    for (; j < n && SameScore(scores[idx[j]], scores[idx[i]]); ++j) {
      if (labels[idx[j]] > 0.5f) ++gp; else ++gn;
    }
    won += gn * pos_above + 0.5 * gn * gp;
    pos_above += gp;
    pos += gp;
    neg += gn;
    i = j;
  }
  if (pos == 0 || neg == 0) return kNaN;
  return won / (pos * neg);
}

double AveragePrecision(const float* scores, const float* labels, size_t n) {
  const std::vector<size_t> idx = ByScoreDesc(scores, n);
  double total_pos = 0;
  for (size_t i = 0; i < n; ++i) total_pos += labels[i] > 0.5f ? 1 : 0;
  if (total_pos == 0) return kNaN;
  double tp = 0, seen = 0, ap = 0, prev_recall = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    for (; j < n && SameScore(scores[idx[j]], scores[idx[i]]); ++j) {
      tp += labels[idx[j]] > 0.5f ? 1 : 0;
      ++seen;
    }
    const double recall = tp / total_pos;
    ap += (recall - prev_recall) * (tp / seen);
    prev_recall = recall;
    i = j;
  }
  return ap;
}

double LogLoss(const float* probabilities, const float* labels, size_t n) {
  if (n == 0) return kNaN;
  constexpr double kEps = 1e-15;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const double p = std::clamp(static_cast<double>(probabilities[i]), kEps, 1 - kEps);
    sum -= labels[i] > 0.5f ? std::log(p) : std::log1p(-p);
  }
  return sum / static_cast<double>(n);
}

double Rmse(const float* predictions, const float* labels, size_t n) {
  if (n == 0) return kNaN;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(predictions[i]) - labels[i];
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(n));
}

}  // namespace sluice::learn
