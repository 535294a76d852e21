// Fuzzes models::LinearModel::Parse, the sluice-linear JSON parser (docs/models.md). Errors must
// be Statuses with a message. A model that parses must round-trip: ToJson() parses back to the
// same kind, inputs, weights and bias, bit for bit; and it must score (single row and batch give
// the same values) rows of zeros, NaNs and values taken from the input without reading out of
// bounds.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "sluice/models/linear_model.h"

namespace {

using sluice::models::LinearModel;

void Fail(const char* what) {
  std::fprintf(stderr, "linear_model_fuzzer: %s\n", what);
  std::abort();
}

bool Same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void CheckRoundTrip(const LinearModel& m) {
  auto again = LinearModel::Parse(m.ToJson(), "round-trip");
  if (!again.ok()) Fail("ToJson() does not parse back");
  if (again->kind() != m.kind() || again->inputs() != m.inputs()) Fail("kind or inputs changed");
  if (again->weights().size() != m.weights().size()) Fail("weight count changed");
  for (size_t i = 0; i < m.weights().size(); ++i) {
    if (again->weights()[i] != m.weights()[i]) Fail("a weight changed in the round trip");
  }
  if (again->bias() != m.bias()) Fail("the bias changed in the round trip");
}

void CheckScores(const LinearModel& m, std::string_view text) {
  const size_t width = m.inputs().size(), rows = 5;
  if (width > 4096) return;
  std::vector<double> x(rows * width);
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t r = i / width;
    const unsigned char c = text.empty() ? 0 : text[i % text.size()];
    x[i] = r == 0 ? 0 : r == 1 ? NAN : static_cast<double>(c) - 100.25;
  }
  std::vector<double> batch(rows);
  m.PredictBatch(x, batch);
  for (size_t r = 0; r < rows; ++r) {
    const double one = m.Predict({x.data() + r * width, width});
    if (!Same(one, batch[r])) Fail("batch and single-row scores differ");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = LinearModel::Parse(text, "fuzz");
  if (!m.ok()) {
    if (m.status().message().empty()) Fail("an error without a message");
    return 0;
  }
  CheckRoundTrip(*m);
  CheckScores(*m, text);
  return 0;
}
