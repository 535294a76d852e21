// Parsing and validation of the `features:` list (SPEC.md §2-3, docs/semantics.md).
#include <algorithm>
#include <cctype>
#include <functional>

#include "sluice/spec/expr.h"
#include "sluice/spec/yaml_reader.h"

namespace sluice::spec::internal {

using core::Result;
using core::Status;

namespace {

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool AggFromName(const std::string& s, AggKind* k) {
  for (int i = 0; i <= static_cast<int>(AggKind::kTimeSinceLast); ++i) {
    if (s == AggName(static_cast<AggKind>(i))) {
      *k = static_cast<AggKind>(i);
      return true;
    }
  }
  return false;
}

Status ParseKey(const YamlReader& r, const YAML::Node& n, const std::string& path,
                const Pipeline& p, FeatureSpec* f) {
  if (n.IsScalar()) {
    f->key.push_back(n.Scalar());
  } else if (n.IsSequence() && n.size() > 0) {
    for (const auto& k : n) {
      if (!k.IsScalar()) return r.Error(k, path, "expected a field name");
      f->key.push_back(k.Scalar());
    }
  } else {
    return r.Error(n, path, "expected a field name or a list of field names");
  }
  for (const auto& k : f->key) {
    if (p.schema.Find(k) < 0) return r.Error(n, path, "no field named '" + k + "' in fields");
    if (std::count(f->key.begin(), f->key.end(), k) > 1)
      return r.Error(n, path, "field '" + k + "' repeated");
  }
  return Status::Ok();
}

Status ParseWindowKeys(const YamlReader& r, const YAML::Node& n, const std::string& path,
                       FeatureSpec* f) {
  if (n["window"] && n["rows"])
    return r.Error(n["rows"], path + ".rows", "give either window or rows, not both");
  if (n["window"]) {
    auto w = r.Dur(n["window"], path + ".window");
    if (!w.ok()) return w.status();
    if (w->micros() <= 0) return r.Error(n["window"], path + ".window", "must be positive");
    f->window = *w;
  }
  if (n["rows"]) {
    auto k = r.Int(n["rows"], path + ".rows", 1, 1000000);
    if (!k.ok()) return k.status();
    f->rows = *k;
  }
  if (n["resolution"]) {
    auto res = r.Dur(n["resolution"], path + ".resolution");
    if (!res.ok()) return res.status();
    if (!f->window) return r.Error(n["resolution"], path + ".resolution", "needs a window");
    if (res->micros() <= 0 || f->window->micros() % res->micros() != 0) {
      return r.Error(n["resolution"], path + ".resolution",
                     "must be positive and divide the window");
    }
    if (f->window->micros() / res->micros() > 100000) {
      return r.Error(n["resolution"], path + ".resolution",
                     "window/resolution must be at most 100000 buckets");
    }
    f->resolution = *res;
  }
  if (n["half_life"]) {
    auto h = r.Dur(n["half_life"], path + ".half_life");
    if (!h.ok()) return h.status();
    if (h->micros() <= 0) return r.Error(n["half_life"], path + ".half_life", "must be positive");
    f->half_life = *h;
  }
  if (n["exclude_current"]) {
    auto b = r.Bool(n["exclude_current"], path + ".exclude_current");
    if (!b.ok()) return b.status();
    f->exclude_current = *b;
  }
  return Status::Ok();
}

Status CheckAggRules(const YamlReader& r, const YAML::Node& n, const std::string& path,
                     const Pipeline& p, const FeatureSpec& f) {
  const char* agg = AggName(f.agg);
  if (f.agg == AggKind::kTimeSinceLast) {
    for (const char* k : {"of", "window", "rows", "resolution", "exclude_current", "half_life"}) {
      if (n[k]) return r.Error(n[k], path + "." + k, std::string("time_since_last takes no ") + k);
    }
    return Status::Ok();
  }
  if (f.agg == AggKind::kEwma && !f.half_life)
    return r.Error(n, path + ".half_life", "ewma needs half_life");
  if (f.agg != AggKind::kEwma && f.half_life)
    return r.Error(n["half_life"], path + ".half_life", "only ewma takes half_life");
  if (f.of.empty()) {
    if (f.agg != AggKind::kCount)
      return r.Error(n, path + ".of", std::string(agg) + " needs 'of: <field>'");
    return Status::Ok();
  }
  int idx = p.schema.Find(f.of);
  if (idx < 0) return r.Error(n["of"], path + ".of", "no field named '" + f.of + "' in fields");
  bool numeric_needed = f.agg != AggKind::kCount && f.agg != AggKind::kCountDistinct;
  if (numeric_needed && !core::IsNumeric(p.schema.field(idx).type)) {
    return r.Error(n["of"], path + ".of",
                   std::string(agg) + " needs a numeric field; '" + f.of + "' is " +
                       core::FieldTypeName(p.schema.field(idx).type));
  }
  return Status::Ok();
}

Status ParseAggFeature(const YamlReader& r, const YAML::Node& n, const std::string& path,
                       const Pipeline& p, FeatureSpec* f) {
  SLUICE_RETURN_IF_ERROR(r.CheckMap(n, path,
                                    {"name", "agg", "of", "key", "window", "rows", "resolution",
                                     "exclude_current", "half_life"}));
  std::string agg = n["agg"].IsScalar() ? n["agg"].Scalar() : "";
  if (!AggFromName(agg, &f->agg)) {
    return r.Error(n["agg"], path + ".agg",
                   "unknown aggregation '" + agg +
                       "' (count, sum, mean, min, max, var, "
                       "stddev, count_distinct, first, last, ewma, time_since_last)");
  }
  if (!n["key"]) return r.Error(n, path + ".key", "an aggregation needs a key");
  SLUICE_RETURN_IF_ERROR(ParseKey(r, n["key"], path + ".key", p, f));
  if (n["of"]) {
    auto of = r.String(n["of"], path + ".of");
    if (!of.ok()) return of.status();
    f->of = *of;
  }
  SLUICE_RETURN_IF_ERROR(ParseWindowKeys(r, n, path, f));
  return CheckAggRules(r, n, path, p, *f);
}

Status ParseOne(const YamlReader& r, const YAML::Node& n, const std::string& path, Pipeline* p) {
  if (!n.IsMap()) return r.Error(n, path, "expected a mapping {name: ..., agg: ... | expr: ...}");
  FeatureSpec f;
  f.where = r.Loc(n, path);
  auto name = r.String(n["name"], path + ".name");
  if (!name.ok()) return name.status();
  f.name = *name;
  if (!IsIdentifier(f.name))
    return r.Error(n["name"], path + ".name", "must be an identifier ([A-Za-z_][A-Za-z0-9_]*)");
  if (p->FindFeature(f.name) >= 0)
    return r.Error(n["name"], path + ".name", "feature '" + f.name + "' defined twice");
  if (p->schema.Find(f.name) >= 0)
    return r.Error(n["name"], path + ".name", "'" + f.name + "' is already a field");
  if (n["expr"] && n["agg"]) return r.Error(n["expr"], path, "give either agg or expr, not both");
  if (n["expr"]) {
    SLUICE_RETURN_IF_ERROR(r.CheckMap(n, path, {"name", "expr"}));
    auto e = r.String(n["expr"], path + ".expr");
    if (!e.ok()) return e.status();
    f.is_expr = true;
    f.expr = *e;
    f.expr_where = r.Loc(n["expr"], path + ".expr");
  } else if (n["agg"]) {
    SLUICE_RETURN_IF_ERROR(ParseAggFeature(r, n, path, *p, &f));
  } else {
    return r.Error(n, path, "a feature needs agg or expr");
  }
  p->features.push_back(std::move(f));
  return Status::Ok();
}

// Every identifier must be a numeric field or a feature; feature references must not form a cycle.
Status CheckExpressions(const YamlReader& r, const Pipeline& p) {
  const size_t n = p.features.size();
  std::vector<std::vector<int>> deps(n);
  for (size_t i = 0; i < n; ++i) {
    const FeatureSpec& f = p.features[i];
    if (!f.is_expr) continue;
    auto tree = ParseExpr(f.expr);
    if (!tree.ok()) return r.ErrorAt(f.expr_where.line, f.expr_where.path, tree.status().message());
    std::vector<std::string> ids;
    CollectIdents(*tree, &ids);
    for (const auto& id : ids) {
      int fi = p.FindFeature(id);
      if (fi >= 0) {
        deps[i].push_back(fi);
        continue;
      }
      int field = p.schema.Find(id);
      if (field < 0)
        return r.ErrorAt(f.expr_where.line, f.expr_where.path,
                         "unknown name '" + id + "' (not a field or feature)");
      bool is_time = field == p.schema.time_index();
      if (!is_time && !core::IsNumeric(p.schema.field(field).type)) {
        return r.ErrorAt(f.expr_where.line, f.expr_where.path,
                         "field '" + id + "' is a string; expressions use numbers");
      }
    }
  }
  // Depth-first search; state 1 = on the current path, 2 = done.
  std::vector<int> state(n, 0);
  std::vector<int> stack;
  std::function<Status(int)> visit = [&](int i) -> Status {
    state[i] = 1;
    stack.push_back(i);
    for (int d : deps[i]) {
      if (state[d] == 1) {
        std::string cycle;
        auto it = std::find(stack.begin(), stack.end(), d);
        for (; it != stack.end(); ++it) cycle += p.features[*it].name + " -> ";
        cycle += p.features[d].name;
        const FeatureSpec& f = p.features[i];
        return r.ErrorAt(f.expr_where.line, f.expr_where.path,
                         "features reference each other in a cycle: " + cycle);
      }
      if (state[d] == 0) SLUICE_RETURN_IF_ERROR(visit(d));
    }
    stack.pop_back();
    state[i] = 2;
    return Status::Ok();
  };
  for (size_t i = 0; i < n; ++i) {
    if (state[i] == 0) SLUICE_RETURN_IF_ERROR(visit(static_cast<int>(i)));
  }
  return Status::Ok();
}

// Default max(90d, longest time window + allowed_lateness); a given TTL may not be shorter.
Status SetStateTtl(const YamlReader& r, const YAML::Node& features, Pipeline* p) {
  core::Duration longest;
  for (const auto& f : p->features) {
    if (f.window && *f.window > longest) longest = *f.window;
  }
  core::Duration needed = longest + p->allowed_lateness;
  if (!p->state_ttl_given) {
    p->state_ttl = std::max(core::Duration::Days(90), needed);
    return Status::Ok();
  }
  if (p->state_ttl < needed) {
    return r.ErrorAt(p->state_ttl_line, "state_ttl",
                     "must be at least the longest window + allowed_lateness (" +
                         core::FormatDuration(needed) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status ParseFeatures(const YamlReader& r, const YAML::Node& node, Pipeline* p) {
  if (!node.IsSequence() || node.size() == 0)
    return r.Error(node, "features", "expected a non-empty list");
  for (size_t i = 0; i < node.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(ParseOne(r, node[i], "features[" + std::to_string(i) + "]", p));
  }
  SLUICE_RETURN_IF_ERROR(CheckExpressions(r, *p));
  return SetStateTtl(r, node, p);
}

}  // namespace sluice::spec::internal
