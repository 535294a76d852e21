// Fuzzes models::LoadModelFromJson, the XGBoost JSON model parser and the evaluator it builds.
// Errors must be Statuses with a message; a model that loads must score without reading out of
// bounds (ASan) for rows of zeros, NaNs and values taken from the input, and its batch path must
// give the very same values as its single-row path, margins and outputs alike.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "sluice/models/model.h"

namespace {

using sluice::models::Model;

bool Same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void CheckScores(const Model& m, std::string_view text) {
  const size_t width = m.num_inputs(), rows = 11;
  if (width > 4096) return;  // scoring cost, not correctness, grows with the width
  std::vector<float> x(rows * width);
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t r = i / width;
    if (r == 0) {
      x[i] = 0;
    } else if (r == 1) {
      x[i] = NAN;
    } else {
      const unsigned char c = text.empty() ? 0 : text[i % text.size()];
      x[i] = c % 5 == 0 ? NAN : static_cast<float>(c % 64) - 20.5f + (c % 3 == 0 ? 0.5f : 0);
    }
  }
  for (int margin = 0; margin < 2; ++margin) {
    const size_t per = margin ? m.num_margins() : m.num_outputs();
    std::vector<double> batch(rows * per), one(per);
    if (margin) {
      m.PredictMarginBatch(x.data(), rows, width, batch.data());
    } else {
      m.PredictBatch(x.data(), rows, width, batch.data());
    }
    for (size_t r = 0; r < rows; ++r) {
      if (margin) {
        m.PredictMargin(&x[r * width], one.data());
      } else {
        m.Predict(&x[r * width], one.data());
      }
      for (size_t k = 0; k < per; ++k) {
        if (!Same(one[k], batch[r * per + k]))
          sluice::fuzz::Fail("batch and single-row scores differ", text);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = sluice::models::LoadModelFromJson(text);
  if (!m.ok()) {
    if (m.status().message().empty()) sluice::fuzz::Fail("model error without a message", text);
    return 0;
  }
  const Model& model = **m;
  if (model.num_outputs() < 1 || model.num_margins() < 1 ||
      model.input_names().size() != model.num_inputs())
    sluice::fuzz::Fail("a loaded model with inconsistent shape", text);
  CheckScores(model, text);
  return 0;
}
