// ftrl_driver: runs models::FtrlLearner over a CSV stream so test/models/check_ftrl.py can
// compare it with the Python transcription of Algorithm 1 (ftrl_oracle.py).
//
//   ftrl_driver --dim D --alpha A --beta B --l1 L1 --l2 L2 [--no-bias] [--dense]
//               --input F --predictions P --weights W [--model M.json]
//
// Sparse input lines are "y,i:v,i:v,..."; dense ones (--dense) are "y,x0,...,x{D-1}" with an
// empty cell for a missing value. Writes the p predicted before each update (one per line) and
// the final weights (D lines, then the bias), all with %.17g; --model saves the sluice-linear file.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "sluice/models/ftrl.h"

namespace {

using sluice::models::FtrlLearner;
using sluice::models::FtrlParams;

int Die(const std::string& msg) {
  std::fprintf(stderr, "ftrl_driver: %s\n", msg.c_str());
  return 2;
}

// Splits "y,a,b,..." into the label and the remaining cells.
double SplitLine(const std::string& line, std::vector<std::string>* cells) {
  cells->clear();
  size_t start = line.find(',');
  const double y = std::strtod(line.substr(0, start).c_str(), nullptr);
  while (start != std::string::npos) {
    const size_t next = line.find(',', start + 1);
    cells->push_back(line.substr(start + 1, next == std::string::npos ? next : next - start - 1));
    start = next;
  }
  return y;
}

double Learn(FtrlLearner* l, bool dense, const std::string& line, std::vector<std::string>* cells,
             std::vector<uint32_t>* idx, std::vector<double>* val) {
  const double y = SplitLine(line, cells);
  idx->clear();
  val->clear();
  if (dense) {
    for (const auto& c : *cells) val->push_back(c.empty() ? NAN : std::strtod(c.c_str(), nullptr));
    return l->LearnDense(*val, y);
  }
  for (const auto& c : *cells) {
    const size_t colon = c.find(':');
    idx->push_back(static_cast<uint32_t>(std::strtoul(c.substr(0, colon).c_str(), nullptr, 10)));
    val->push_back(std::strtod(c.substr(colon + 1).c_str(), nullptr));
  }
  return l->LearnSparse(*idx, *val, y);
}

}  // namespace

int main(int argc, char** argv) {
  FtrlParams p;
  size_t dim = 0;
  bool dense = false;
  std::string input, preds_path, weights_path, model_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--dim")
      dim = std::strtoul(next().c_str(), nullptr, 10);
    else if (a == "--alpha")
      p.alpha = std::strtod(next().c_str(), nullptr);
    else if (a == "--beta")
      p.beta = std::strtod(next().c_str(), nullptr);
    else if (a == "--l1")
      p.l1 = std::strtod(next().c_str(), nullptr);
    else if (a == "--l2")
      p.l2 = std::strtod(next().c_str(), nullptr);
    else if (a == "--no-bias")
      p.bias = false;
    else if (a == "--dense")
      dense = true;
    else if (a == "--input")
      input = next();
    else if (a == "--predictions")
      preds_path = next();
    else if (a == "--weights")
      weights_path = next();
    else if (a == "--model")
      model_path = next();
    else
      return Die("unknown argument " + a);
  }
  auto learner = FtrlLearner::Make(dim, p);
  if (!learner.ok()) return Die(learner.status().message());
  std::ifstream in(input);
  std::FILE* preds = std::fopen(preds_path.c_str(), "w");
  std::FILE* weights = std::fopen(weights_path.c_str(), "w");
  if (!in || !preds || !weights) return Die("cannot open the input or an output file");
  std::string line;
  std::vector<std::string> cells;
  std::vector<uint32_t> idx;
  std::vector<double> val;
  while (std::getline(in, line)) {
    if (!line.empty())
      std::fprintf(preds, "%.17g\n", Learn(&*learner, dense, line, &cells, &idx, &val));
  }
  for (size_t i = 0; i < dim; ++i) std::fprintf(weights, "%.17g\n", learner->Weight(i));
  std::fprintf(weights, "%.17g\n", learner->Bias());
  std::fclose(preds);
  std::fclose(weights);
  if (!model_path.empty()) {
    auto model = learner->ToModel();
    if (!model.ok() || !model->Save(model_path).ok()) return Die("cannot save " + model_path);
  }
  return 0;
}
