#include "sluice/features/compiled.h"

#include "sluice/features/window_state.h"

namespace sluice::features {

using core::Result;
using core::Status;
using spec::AggKind;

namespace {

OpKind OpFor(AggKind a, bool has_of) {
  switch (a) {
    case AggKind::kCount:
      return has_of ? OpKind::kCountOf : OpKind::kCountAll;
    case AggKind::kSum:
      return OpKind::kSum;
    case AggKind::kMean:
      return OpKind::kMean;
    case AggKind::kMin:
      return OpKind::kMin;
    case AggKind::kMax:
      return OpKind::kMax;
    case AggKind::kVar:
    case AggKind::kStddev:
      return OpKind::kVar;
    case AggKind::kFirst:
      return OpKind::kFirst;
    case AggKind::kLast:
      return OpKind::kLast;
    case AggKind::kEwma:
      return OpKind::kEwma;
    default:
      return OpKind::kMaxTime;  // time_since_last
  }
}

GroupKind KindOf(const spec::FeatureSpec& f) {
  if (f.rows) return GroupKind::kRows;
  if (f.resolution) return GroupKind::kBucket;
  if (f.window) return GroupKind::kTime;
  return GroupKind::kUnbounded;
}

// The group a feature belongs to: same kind and shape. Rows that include the current event keep
// one row fewer (the event itself is added on top).
GroupDef* FindOrAddGroup(KeySpaceDef* ks, const spec::FeatureSpec& f) {
  GroupDef shape;
  shape.kind = KindOf(f);
  if (f.window) shape.window_us = f.window->micros();
  if (f.resolution) shape.resolution_us = f.resolution->micros();
  if (f.rows) shape.rows = *f.rows - (f.exclude_current ? 0 : 1);
  for (auto& g : ks->groups) {
    if (g.kind == shape.kind && g.window_us == shape.window_us &&
        g.resolution_us == shape.resolution_us && g.rows == shape.rows) {
      return &g;
    }
  }
  ks->groups.push_back(std::move(shape));
  return &ks->groups.back();
}

int FindOrAddColumn(GroupDef* g, ColumnDef::Kind kind, int field) {
  for (const auto& c : g->columns) {
    if (c.kind == kind && c.field == field) return c.slot;
  }
  ColumnDef c{kind, field, g->num_slots};
  g->num_slots += kind == ColumnDef::Kind::kToken ? 2 : 1;
  g->columns.push_back(c);
  return c.slot;
}

int KeySpaceFor(CompiledFeatures* cf, const spec::Pipeline& p, const spec::FeatureSpec& f) {
  std::vector<int> fields;
  std::string name;
  for (const auto& k : f.key) {
    fields.push_back(p.schema.Find(k));
    name += (name.empty() ? "" : ",") + k;
  }
  for (size_t i = 0; i < cf->key_spaces.size(); ++i) {
    if (cf->key_spaces[i].fields == fields) return static_cast<int>(i);
  }
  cf->key_spaces.push_back(KeySpaceDef{fields, name, {}});
  return static_cast<int>(cf->key_spaces.size()) - 1;
}

Status AddAggregation(CompiledFeatures* cf, const spec::Pipeline& p, int index) {
  const spec::FeatureSpec& f = p.features[index];
  const int ks = KeySpaceFor(cf, p, f);
  cf->feature_key_space[index] = ks;
  GroupDef* g = FindOrAddGroup(&cf->key_spaces[ks], f);
  GroupFeature gf{index, f.agg, f.exclude_current || f.agg == AggKind::kTimeSinceLast};
  const int field = f.of.empty() ? -1 : p.schema.Find(f.of);
  const core::FieldType type = field >= 0 ? p.schema.field(field).type : core::FieldType::kDouble;
  if (f.agg == AggKind::kCountDistinct) {
    const bool token = type == core::FieldType::kString || type == core::FieldType::kInt;
    const auto kind = token ? ColumnDef::Kind::kToken : ColumnDef::Kind::kNumber;
    const int slot = FindOrAddColumn(g, kind, field);
    int d = -1;
    for (size_t i = 0; i < g->distinct.size(); ++i) {
      if (g->distinct[i].field == field) d = static_cast<int>(i);
    }
    if (d < 0) {
      if (static_cast<int>(g->distinct.size()) == kMaxDistinct) {
        return Status::InvalidArgument(p.Where(f.where) +
                                       ": too many count_distinct features on one window");
      }
      g->distinct.push_back(ColumnDef{kind, field, slot});
      d = static_cast<int>(g->distinct.size()) - 1;
    }
    gf.distinct = d;
  } else {
    int slot = -1;
    if (field >= 0) {
      const bool presence = f.agg == AggKind::kCount && !core::IsNumeric(type);
      slot = FindOrAddColumn(g, presence ? ColumnDef::Kind::kPresence : ColumnDef::Kind::kNumber,
                             field);
    }
    const double h = f.half_life ? static_cast<double>(f.half_life->micros()) : 0;
    gf.op = g->ops.Add(OpFor(f.agg, field >= 0), slot, h);
  }
  g->any_included = g->any_included || !gf.exclude_current;
  g->features.push_back(gf);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<CompiledFeatures>> Compile(const spec::Pipeline& p) {
  auto cf = std::make_unique<CompiledFeatures>();
  cf->pipeline = &p;
  cf->num_features = static_cast<int>(p.features.size());
  cf->feature_key_space.assign(p.features.size(), -1);
  cf->lateness_us = p.allowed_lateness.micros();
  cf->ttl_us = p.state_ttl.micros();
  for (size_t i = 0; i < p.features.size(); ++i) {
    if (!p.features[i].is_expr)
      SLUICE_RETURN_IF_ERROR(AddAggregation(cf.get(), p, static_cast<int>(i)));
  }
  SLUICE_RETURN_IF_ERROR(cf->expressions.Compile(p));
  return cf;
}

}  // namespace sluice::features
