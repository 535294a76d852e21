// sluice predict: scores a CSV of raw feature vectors with a model file (SPEC.md §1, §4).
#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "sluice/core/number_format.h"
#include "sluice/io/file_writer.h"
#include "sluice/models/model.h"

namespace sluice::cli {

namespace {

const char* kHelp =
    "usage: sluice predict --model FILE --input F.csv --output F.csv [--margin]\n\n"
    "Scores every row of F.csv with an XGBoost model (JSON as save_model writes it, or .ubj).\n"
    "The input header names the model's inputs (extra columns are ignored; an empty cell is a\n"
    "missing value). Models saved without feature names read columns f0..fN-1, or the columns\n"
    "in order when the header has exactly N of them. The output has one row per input row:\n"
    "`score` (binary and regression objectives as XGBoost's predict gives them, the class for\n"
    "multi:softmax) or score_0..score_{K-1} (multi:softprob), and with --margin the raw margin\n"
    "column(s) `margin` or margin_0..margin_{K-1}. Exit 2 when the model is refused or an input\n"
    "is missing, 1 when a file cannot be read or written or a cell is not a number.\n";

constexpr size_t kBatchRows = 1024;

// One CSV record's cells (RFC 4180 quotes; the caller splits records at unquoted newlines).
std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

// Splits the file into records, keeping newlines inside quotes; drops CRs at record ends.
std::vector<std::string_view> Records(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '"') quoted = !quoted;
    if (i == text.size() || (text[i] == '\n' && !quoted)) {
      std::string_view r = text.substr(start, i - start);
      if (!r.empty() && r.back() == '\r') r.remove_suffix(1);
      if (!r.empty() || i < text.size()) out.push_back(r);
      start = i + 1;
    }
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

// The column holding each model input, or an error naming the inputs the header lacks.
bool MapColumns(const models::Model& m, const std::vector<std::string>& header,
                std::vector<size_t>* cols, std::string* err) {
  std::string missing;
  for (const std::string& name : m.input_names()) {
    size_t c = 0;
    while (c < header.size() && header[c] != name) ++c;
    if (c == header.size()) missing += (missing.empty() ? "" : ", ") + name;
    cols->push_back(c);
  }
  if (missing.empty()) return true;
  if (!m.has_feature_names() && header.size() == m.num_inputs()) {  // positional
    for (size_t i = 0; i < cols->size(); ++i) (*cols)[i] = i;
    return true;
  }
  *err = "the input has no column for model input(s) " + missing;
  return false;
}

// An empty cell (or nan) is missing; numbers are parsed as double, then rounded to float as
// xgboost's DMatrix does.
bool ParseCell(const std::string& s, float* out) {
  if (s.empty()) {
    *out = std::numeric_limits<float>::quiet_NaN();
    return true;
  }
  double d;
  const char* b = s.data() + (s[0] == '+' ? 1 : 0);
  auto r = std::from_chars(b, s.data() + s.size(), d);
  if (r.ec == std::errc::result_out_of_range) {
    d = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
  } else if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    return false;
  }
  // Beyond the rounding boundary above FLT_MAX the float is infinite (as numpy's astype gives);
  // the cast itself would be undefined behaviour there.
  constexpr double kOverflow = 3.4028235677973366e38;
  if (std::fabs(d) >= kOverflow) {
    *out = std::copysign(HUGE_VALF, static_cast<float>(d > 0 ? 1 : -1));
  } else {
    *out = static_cast<float>(std::clamp(d, -double{FLT_MAX}, double{FLT_MAX}));
  }
  return true;
}

std::string OutputHeader(const models::Model& m, bool margin) {
  std::string h;
  auto cols = [&](const char* base, int n) {
    for (int k = 0; k < n; ++k) {
      if (!h.empty()) h += ',';
      h += base;
      if (n > 1) h += "_" + std::to_string(k);
    }
  };
  cols("score", m.num_outputs());
  if (margin) cols("margin", m.num_margins());
  return h + "\n";
}

struct Job {
  const models::Model* model;
  bool margin;
  std::vector<size_t> cols;
  std::string input;
  std::vector<float> rows;  // kBatchRows x num_inputs()
  std::vector<double> scores, margins;
};

// Scores rows [0, n) of `rows` and appends their CSV lines.
core::Status Flush(Job* job, size_t n, io::FileWriter* out) {
  const models::Model& m = *job->model;
  const size_t k = m.num_outputs(), g = m.num_margins();
  std::vector<double>& scores = job->scores;
  std::vector<double>& margins = job->margins;
  scores.resize(n * k);
  margins.resize(n * g);
  m.PredictBatch(job->rows.data(), n, m.num_inputs(), scores.data());
  if (job->margin) m.PredictMarginBatch(job->rows.data(), n, m.num_inputs(), margins.data());
  std::string* buf = out->buffer();
  for (size_t r = 0; r < n; ++r) {
    for (size_t j = 0; j < k; ++j) {
      if (j) buf->push_back(',');
      core::AppendDouble(scores[r * k + j], buf);
    }
    for (size_t j = 0; job->margin && j < g; ++j) {
      buf->push_back(',');
      core::AppendDouble(margins[r * g + j], buf);
    }
    buf->push_back('\n');
  }
  return out->MaybeFlush();
}

int Score(Job& job, const std::vector<std::string_view>& records, io::FileWriter* out) {
  const size_t width = job.model->num_inputs();
  std::vector<float>& rows = job.rows;
  rows.resize(kBatchRows * width);
  size_t n = 0;
  for (size_t line = 1; line < records.size(); ++line) {
    const std::vector<std::string> cells = SplitCsv(records[line]);
    for (size_t i = 0; i < width; ++i) {
      const std::string where = job.input + ":" + std::to_string(line + 1) + ": column '" +
                                job.model->input_names()[i] + "'";
      if (job.cols[i] >= cells.size()) return Fail("predict", where + ": the row is too short", 1);
      if (!ParseCell(cells[job.cols[i]], &rows[n * width + i]))
        return Fail("predict", where + ": not a number: '" + cells[job.cols[i]] + "'", 1);
    }
    if (++n == kBatchRows || line + 1 == records.size()) {
      if (auto st = Flush(&job, n, out); !st.ok()) return Fail("predict", st.message(), 1);
      n = 0;
    }
  }
  if (auto st = out->Close(); !st.ok()) return Fail("predict", st.message(), 1);
  return 0;
}

}  // namespace

int RunPredict(int argc, char** argv) {
  if (HelpAsked(argc, argv, kHelp)) return 0;
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 2, {"model", "input", "output"}, {"margin"}, &err))
    return Fail("predict", err, 2);
  if (!args.positional().empty()) return Fail("predict", "unexpected argument (see --help)", 2);
  for (const char* f : {"model", "input", "output"}) {
    if (!args.Has(f)) return Fail("predict", std::string("--") + f + " is required", 2);
  }
  auto model = models::LoadModel(args.Get("model"));
  if (!model.ok())
    return Fail("predict", model.status().message(),
                model.status().code() == core::Code::kIoError ? 1 : 2);
  Job job{model->get(), args.Has("margin"), {}, args.Get("input"), {}, {}, {}};
  std::ifstream in(job.input, std::ios::binary);
  if (!in) return Fail("predict", job.input + ": cannot open input", 1);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string data = text.str();
  const std::vector<std::string_view> records = Records(data);
  if (records.empty()) return Fail("predict", job.input + ": empty file (no header)", 2);
  if (!MapColumns(**model, SplitCsv(records[0]), &job.cols, &err))
    return Fail("predict", job.input + ": " + err, 2);
  auto out = io::FileWriter::Create(args.Get("output"));
  if (!out.ok()) return Fail("predict", out.status().message(), 1);
  (*out)->buffer()->append(OutputHeader(**model, job.margin));
  return Score(job, records, out->get());
}

}  // namespace sluice::cli
