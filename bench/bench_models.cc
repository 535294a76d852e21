// bench_models: Sluice's tree evaluator against libxgboost's inplace predict
// (XGBoosterPredictFromDense, nthread=1) on the same model files and the same rows, in one run.
//
//   bench_models MODEL.json [MODEL.json...] [--benchmark_* flags]
//
// For each model: single rows (Model::Predict vs one-row PredictFromDense) and batches of 64, 256
// and 1024 rows (Model::PredictBatch vs PredictFromDense). Rows come from a fixed pool of 4096
// random rows (10% NaN), visited in order, so neither side sees the same row twice in a row.
// Reports rows per second (items_per_second). Before timing, checks that both sides give the same
// probabilities for the whole pool, by batch and row by row (|a - b| <= 1e-6), and exits 1
// otherwise: a faster wrong answer is no result.
#include <benchmark/benchmark.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sluice/models/model.h"

namespace {

constexpr size_t kPool = 4096;
const size_t kBatches[] = {64, 256, 1024};

struct Bench {
  std::string name;
  std::unique_ptr<sluice::models::Model> model;
  BoosterHandle booster = nullptr;
  size_t width = 0;
  std::vector<float> rows;  // kPool x width
};

// The __array_interface__ libxgboost reads for n rows at `p`; built outside the timed loops.
std::string ArrayInterface(const float* p, size_t n, size_t width) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                R"({"data": [%llu, true], "shape": [%zu, %zu], "typestr": "<f4", "version": 3})",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(p)), n, width);
  return buf;
}

const char* kConfig = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0,)"
                      R"( "strict_shape": false, "missing": NaN, "cache_id": 0})";

const float* XgbPredict(const Bench& b, const std::string& array) {
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  if (XGBoosterPredictFromDense(b.booster, array.c_str(), kConfig, nullptr, &shape, &dim, &out)) {
    std::fprintf(stderr, "xgboost: %s\n", XGBGetLastError());
    std::exit(1);
  }
  return out;
}

// Rows per second; ns per row is its inverse (models_bench.py reports that).
void SetRate(benchmark::State& state, size_t rows_per_iter) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows_per_iter));
}

void SluiceBatch(benchmark::State& state, const Bench* b, size_t n) {
  std::vector<double> out(n * b->model->num_outputs());
  size_t at = 0;
  for (auto _ : state) {
    if (n == 1) {
      b->model->Predict(&b->rows[at * b->width], out.data());
    } else {
      b->model->PredictBatch(&b->rows[at * b->width], n, b->width, out.data());
    }
    benchmark::DoNotOptimize(out.data());
    at = (at + n) % kPool;
  }
  SetRate(state, n);
}

void XgbBatch(benchmark::State& state, const Bench* b, size_t n) {
  std::vector<std::string> arrays;
  for (size_t at = 0; at < kPool; at += n)
    arrays.push_back(ArrayInterface(&b->rows[at * b->width], n, b->width));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(XgbPredict(*b, arrays[i]));
    i = (i + 1) % arrays.size();
  }
  SetRate(state, n);
}

// Both sides on the whole pool; returns the largest difference.
double MaxDifference(const Bench& b) {
  std::vector<double> ours(kPool * b.model->num_outputs());
  b.model->PredictBatch(b.rows.data(), kPool, b.width, ours.data());
  const float* theirs = XgbPredict(b, ArrayInterface(b.rows.data(), kPool, b.width));
  double worst = 0;
  for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, std::fabs(ours[i] - theirs[i]));
  // The single-row path walks another layout: every row through it too.
  const size_t k = b.model->num_outputs();
  std::vector<double> one(k);
  for (size_t r = 0; r < kPool; ++r) {
    b.model->Predict(&b.rows[r * b.width], one.data());
    for (size_t j = 0; j < k; ++j) worst = std::max(worst, std::fabs(one[j] - theirs[r * k + j]));
  }
  return worst;
}

std::unique_ptr<Bench> Load(const std::string& path) {
  auto b = std::make_unique<Bench>();
  b->name = path.substr(path.find_last_of('/') + 1);
  auto m = sluice::models::LoadModel(path);
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", m.status().message().c_str());
    std::exit(1);
  }
  b->model = std::move(*m);
  if (XGBoosterCreate(nullptr, 0, &b->booster) || XGBoosterLoadModel(b->booster, path.c_str()) ||
      XGBoosterSetParam(b->booster, "nthread", "1")) {
    std::fprintf(stderr, "xgboost: %s\n", XGBGetLastError());
    std::exit(1);
  }
  b->width = b->model->num_inputs();
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  b->rows.resize(kPool * b->width);
  for (float& x : b->rows) x = rng() % 10 == 0 ? NAN : normal(rng);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::vector<std::unique_ptr<Bench>> benches;
  for (int i = 1; i < argc; ++i) benches.push_back(Load(argv[i]));
  if (benches.empty()) {
    std::fprintf(stderr, "usage: bench_models MODEL.json [MODEL.json...] [--benchmark_* flags]\n");
    return 2;
  }
  for (const auto& b : benches) {
    const double diff = MaxDifference(*b);
    std::fprintf(stderr, "%s: max |sluice - xgboost| over %zu rows = %.3g\n", b->name.c_str(),
                 kPool, diff);
    if (!(diff <= 1e-6)) return 1;
    for (size_t n : {size_t{1}, kBatches[0], kBatches[1], kBatches[2]}) {
      const std::string suffix = b->name + "/" + (n == 1 ? "row" : "batch" + std::to_string(n));
      benchmark::RegisterBenchmark(("sluice/" + suffix).c_str(), SluiceBatch, b.get(), n);
      benchmark::RegisterBenchmark(("xgboost/" + suffix).c_str(), XgbBatch, b.get(), n);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& b : benches) XGBoosterFree(b->booster);
  return 0;
}
