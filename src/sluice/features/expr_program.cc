#include "sluice/features/expr_program.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::features {

using core::Status;
using spec::ExprNode;

namespace {

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

struct NamedOp {
  const char* name;
  Instr op;
};

const NamedOp kBinary[] = {{"+", Instr::kAdd}, {"-", Instr::kSub}, {"*", Instr::kMul},
                           {"/", Instr::kDiv}, {"%", Instr::kMod}, {"<", Instr::kLt},
                           {"<=", Instr::kLe}, {">", Instr::kGt},  {">=", Instr::kGe},
                           {"==", Instr::kEq}, {"!=", Instr::kNe}, {"&&", Instr::kAnd},
                           {"||", Instr::kOr}};
const NamedOp kCalls[] = {{"if", Instr::kIf},
                          {"coalesce", Instr::kCoalesce},
                          {"is_null", Instr::kIsNull},
                          {"abs", Instr::kAbs},
                          {"log", Instr::kLog},
                          {"log1p", Instr::kLog1p},
                          {"exp", Instr::kExp},
                          {"sqrt", Instr::kSqrt},
                          {"pow", Instr::kPow},
                          {"min", Instr::kMin},
                          {"max", Instr::kMax},
                          {"clamp", Instr::kClamp},
                          {"hour", Instr::kHour},
                          {"dayofweek", Instr::kDayOfWeek},
                          {"haversine", Instr::kHaversine}};

template <size_t N>
bool Lookup(const NamedOp (&table)[N], const std::string& name, Instr* op) {
  for (const NamedOp& n : table) {
    if (name == n.name) {
      *op = n.op;
      return true;
    }
  }
  return false;
}

double Finite(double v) { return std::isfinite(v) ? v : kNull; }
double Truth(bool b) { return b ? 1.0 : 0.0; }
bool Null(double v) { return std::isnan(v); }

double Haversine(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = M_PI / 180.0;
  constexpr double kEarthKm = 6371.0088;
  const double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthKm * std::asin(std::sqrt(std::fmin(1.0, a)));
}

double FloorMod(double a, double m) {
  double r = std::fmod(a, m);
  return r < 0 ? r + m : r;
}

}  // namespace

Status ExprSet::Compile(const spec::Pipeline& p) {
  unit_seconds_ = static_cast<double>(core::MicrosPerUnit(p.time_unit)) / 1e6;
  // Parse each expression once, then emit them in dependency order: an expression goes after
  // every feature it names (spec validation already rejected cycles).
  const size_t n = p.features.size();
  std::vector<spec::ExprNode> trees(n);
  std::vector<std::vector<int>> deps(n);
  std::vector<bool> done(n, false);
  for (size_t i = 0; i < n; ++i) {
    done[i] = !p.features[i].is_expr;
    if (done[i]) continue;
    auto tree = spec::ParseExpr(p.features[i].expr);
    if (!tree.ok()) return tree.status();
    std::vector<std::string> ids;
    spec::CollectIdents(*tree, &ids);
    for (const auto& id : ids) {
      if (int f = p.FindFeature(id); f >= 0) deps[i].push_back(f);
    }
    trees[i] = std::move(tree.value());
  }
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < n; ++i) {
      if (done[i] || !std::all_of(deps[i].begin(), deps[i].end(), [&](int f) { return done[f]; }))
        continue;
      Program prog;
      prog.feature = static_cast<int>(i);
      SLUICE_RETURN_IF_ERROR(CompileNode(p, trees[i], &prog, 1));
      max_depth_ = std::max(max_depth_, prog.max_depth);
      programs_.push_back(std::move(prog));
      done[i] = progress = true;
    }
  }
  if (!std::all_of(done.begin(), done.end(), [](bool d) { return d; })) {
    return Status::InvalidArgument("expression features reference each other in a cycle");
  }
  return Status::Ok();
}

Status ExprSet::CompileNode(const spec::Pipeline& p, const ExprNode& n, Program* out, int depth) {
  out->max_depth = std::max(out->max_depth, depth);
  switch (n.kind) {
    case ExprNode::Kind::kNumber:
      out->steps.push_back({Instr::kConst, 0, n.number});
      return Status::Ok();
    case ExprNode::Kind::kIdent: {
      int f = p.FindFeature(n.name);
      if (f >= 0) {
        out->steps.push_back({Instr::kFeature, f, 0});
      } else if (int field = p.schema.Find(n.name); field == p.schema.time_index()) {
        out->steps.push_back({Instr::kTime, 0, 0});
      } else if (field >= 0) {
        out->steps.push_back({Instr::kField, field, 0});
      } else {
        return Status::InvalidArgument("unknown name '" + n.name + "'");
      }
      return Status::Ok();
    }
    default:
      break;
  }
  for (size_t i = 0; i < n.args.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(CompileNode(p, n.args[i], out, depth + static_cast<int>(i)));
  }
  Instr op;
  if (n.kind == ExprNode::Kind::kUnary) {
    op = n.name == "neg" ? Instr::kNeg : Instr::kNot;
  } else if (n.kind == ExprNode::Kind::kBinary) {
    if (!Lookup(kBinary, n.name, &op)) return Status::Internal("unknown operator " + n.name);
  } else if (!Lookup(kCalls, n.name, &op)) {
    return Status::InvalidArgument("unknown function '" + n.name + "'");
  }
  out->steps.push_back({op, static_cast<int>(n.args.size()), 0});
  return Status::Ok();
}

namespace {

// Applies a function or operator to args[0..n) (already evaluated); returns the result.
double Apply(Instr op, const double* a, int n, double unit_seconds) {
  switch (op) {
    case Instr::kNeg:
      return Null(a[0]) ? kNull : -a[0];
    case Instr::kNot:
      return Null(a[0]) ? kNull : Truth(a[0] == 0);
    case Instr::kIsNull:
      return Truth(Null(a[0]));
    case Instr::kCoalesce:
      for (int i = 0; i < n; ++i) {
        if (!Null(a[i])) return a[i];
      }
      return kNull;
    case Instr::kIf:
      return Null(a[0]) ? kNull : (a[0] != 0 ? a[1] : a[2]);
    default:
      break;
  }
  for (int i = 0; i < n; ++i) {
    if (Null(a[i])) return kNull;  // everything below propagates null
  }
  switch (op) {
    case Instr::kAdd:
      return Finite(a[0] + a[1]);
    case Instr::kSub:
      return Finite(a[0] - a[1]);
    case Instr::kMul:
      return Finite(a[0] * a[1]);
    case Instr::kDiv:
      return a[1] == 0 ? kNull : Finite(a[0] / a[1]);
    case Instr::kMod:
      return a[1] == 0 ? kNull : Finite(std::fmod(a[0], a[1]));
    case Instr::kLt:
      return Truth(a[0] < a[1]);
    case Instr::kLe:
      return Truth(a[0] <= a[1]);
    case Instr::kGt:
      return Truth(a[0] > a[1]);
    case Instr::kGe:
      return Truth(a[0] >= a[1]);
    case Instr::kEq:
      return Truth(a[0] == a[1]);
    case Instr::kNe:
      return Truth(a[0] != a[1]);
    case Instr::kAnd:
      return Truth(a[0] != 0 && a[1] != 0);
    case Instr::kOr:
      return Truth(a[0] != 0 || a[1] != 0);
    case Instr::kAbs:
      return std::fabs(a[0]);
    case Instr::kLog:
      return Finite(std::log(a[0]));
    case Instr::kLog1p:
      return Finite(std::log1p(a[0]));
    case Instr::kExp:
      return Finite(std::exp(a[0]));
    case Instr::kSqrt:
      return Finite(std::sqrt(a[0]));
    case Instr::kPow:
      return Finite(std::pow(a[0], a[1]));
    case Instr::kMin: {
      double m = a[0];
      for (int i = 1; i < n; ++i) m = a[i] < m ? a[i] : m;
      return m;
    }
    case Instr::kMax: {
      double m = a[0];
      for (int i = 1; i < n; ++i) m = a[i] > m ? a[i] : m;
      return m;
    }
    case Instr::kClamp:
      return a[0] < a[1] ? a[1] : (a[0] > a[2] ? a[2] : a[0]);
    case Instr::kHour:
      return std::floor(FloorMod(a[0] * unit_seconds, 86400.0) / 3600.0);
    case Instr::kDayOfWeek:  // 1970-01-01 was a Thursday; Monday = 0
      return FloorMod(std::floor(a[0] * unit_seconds / 86400.0) + 3, 7.0);
    case Instr::kHaversine:
      return Finite(Haversine(a[0], a[1], a[2], a[3]));
    default:
      return kNull;
  }
}

}  // namespace

void ExprSet::Evaluate(double* row, const core::Value* fields, double time_in_unit,
                       double* stack) const {
  for (const Program& prog : programs_) {
    int sp = 0;
    for (const Step& s : prog.steps) {
      switch (s.op) {
        case Instr::kConst:
          stack[sp++] = s.value;
          break;
        case Instr::kField:
          stack[sp++] = fields[s.arg].AsDouble();
          break;
        case Instr::kTime:
          stack[sp++] = time_in_unit;
          break;
        case Instr::kFeature:
          stack[sp++] = row[s.arg];
          break;
        default: {
          sp -= s.arg;
          stack[sp] = Apply(s.op, stack + sp, s.arg, unit_seconds_);
          ++sp;
        }
      }
    }
    row[prog.feature] = stack[0];
  }
}

}  // namespace sluice::features
