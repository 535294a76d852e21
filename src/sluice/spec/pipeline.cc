#include "sluice/spec/pipeline.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sluice/spec/yaml_reader.h"

namespace sluice::spec {

using core::Result;
using core::Status;
using internal::Join;
using internal::YamlReader;

namespace internal {
Status ParseFeatures(const YamlReader& r, const YAML::Node& node, Pipeline* p);
}

namespace {

std::string Resolve(const Pipeline& p, const std::string& file) {
  if (file.empty() || file == "-" || std::filesystem::path(file).is_absolute()) return file;
  return (std::filesystem::path(p.base_dir) / file).lexically_normal().string();
}

Status ParseKafka(const YamlReader& r, const YAML::Node& n, const std::string& path, KafkaSpec* k) {
  SLUICE_RETURN_IF_ERROR(r.CheckMap(n, path, {"brokers", "topic", "group", "config"}));
  SLUICE_RETURN_IF_ERROR(r.CheckRequired(n, path, "topic"));
  auto topic = r.String(n["topic"], Join(path, "topic"));
  if (!topic.ok()) return topic.status();
  k->topic = *topic;
  if (n["brokers"]) {
    auto b = r.String(n["brokers"], Join(path, "brokers"));
    if (!b.ok()) return b.status();
    k->brokers = *b;
  }
  if (n["group"]) {
    auto g = r.String(n["group"], Join(path, "group"));
    if (!g.ok()) return g.status();
    k->group = *g;
  }
  if (const YAML::Node& c = n["config"]) {
    if (!c.IsMap())
      return r.Error(c, Join(path, "config"), "expected a mapping of librdkafka properties");
    for (const auto& kv : c) {
      if (!kv.second.IsScalar()) {
        return r.Error(kv.second, Join(path, "config." + kv.first.Scalar()),
                       "expected a scalar value");
      }
      k->config[kv.first.Scalar()] = kv.second.Scalar();
    }
  }
  return Status::Ok();
}

Status ParseSource(const YamlReader& r, const YAML::Node& n, Pipeline* p) {
  const std::string path = "source";
  SLUICE_RETURN_IF_ERROR(r.CheckMap(
      n, path, {"file", "kafka", "format", "csv_delimiter", "max_record_bytes", "unknown_fields"}));
  SourceSpec& s = p->source;
  if (n["file"] && n["kafka"])
    return r.Error(n["kafka"], path, "give either file or kafka, not both");
  if (n["file"]) {
    auto f = r.String(n["file"], Join(path, "file"));
    if (!f.ok()) return f.status();
    s.file = Resolve(*p, *f);
    if (f->size() > 4 && f->substr(f->size() - 4) == ".csv") s.format = Format::kCsv;
  }
  if (n["kafka"]) {
    s.kafka.emplace();
    SLUICE_RETURN_IF_ERROR(ParseKafka(r, n["kafka"], Join(path, "kafka"), &*s.kafka));
  }
  if (const YAML::Node& f = n["format"]) {
    if (f.IsScalar() && f.Scalar() == "jsonl")
      s.format = Format::kJsonl;
    else if (f.IsScalar() && f.Scalar() == "csv")
      s.format = Format::kCsv;
    else
      return r.Error(f, Join(path, "format"), "expected jsonl or csv");
  }
  if (const YAML::Node& d = n["csv_delimiter"]) {
    if (!d.IsScalar() || d.Scalar().size() != 1)
      return r.Error(d, Join(path, "csv_delimiter"), "expected one character");
    s.csv_delimiter = d.Scalar()[0];
  }
  if (n["max_record_bytes"]) {
    auto m = r.Int(n["max_record_bytes"], Join(path, "max_record_bytes"), 64, int64_t{1} << 30);
    if (!m.ok()) return m.status();
    s.max_record_bytes = *m;
  }
  if (const YAML::Node& u = n["unknown_fields"]) {
    if (u.IsScalar() && u.Scalar() == "ignore")
      s.reject_unknown_fields = false;
    else if (u.IsScalar() && u.Scalar() == "dead_letter")
      s.reject_unknown_fields = true;
    else
      return r.Error(u, Join(path, "unknown_fields"), "expected ignore or dead_letter");
  }
  return Status::Ok();
}

Status ParseSink(const YamlReader& r, const YAML::Node& n, const std::string& path, bool features,
                 Pipeline* p, SinkSpec* s) {
  if (features) {
    SLUICE_RETURN_IF_ERROR(
        r.CheckMap(n, path, {"file", "kafka", "include_features", "exactly_once"}));
  } else {
    SLUICE_RETURN_IF_ERROR(r.CheckMap(n, path, {"file", "kafka"}));
  }
  if (n["file"] && n["kafka"])
    return r.Error(n["kafka"], path, "give either file or kafka, not both");
  // The output may leave both out: `sluice run` then writes to stdout (or --output).
  if (!features && !n["file"] && !n["kafka"]) return r.Error(n, path, "needs file or kafka");
  if (n["file"]) {
    auto f = r.String(n["file"], Join(path, "file"));
    if (!f.ok()) return f.status();
    s->file = Resolve(*p, *f);
  }
  if (n["kafka"]) {
    s->kafka.emplace();
    SLUICE_RETURN_IF_ERROR(ParseKafka(r, n["kafka"], Join(path, "kafka"), &*s->kafka));
  }
  if (n["include_features"]) {
    auto b = r.Bool(n["include_features"], Join(path, "include_features"));
    if (!b.ok()) return b.status();
    s->include_features = *b;
  }
  if (n["exactly_once"]) {
    auto b = r.Bool(n["exactly_once"], Join(path, "exactly_once"));
    if (!b.ok()) return b.status();
    s->exactly_once = *b;
    if (*b && !s->kafka)
      return r.Error(n["exactly_once"], Join(path, "exactly_once"), "needs output to kafka");
  }
  return Status::Ok();
}

Status ParseEventTime(const YamlReader& r, const YAML::Node& n, Pipeline* p) {
  SLUICE_RETURN_IF_ERROR(r.CheckMap(n, "event_time", {"field", "unit"}));
  SLUICE_RETURN_IF_ERROR(r.CheckRequired(n, "event_time", "field"));
  auto f = r.String(n["field"], "event_time.field");
  if (!f.ok()) return f.status();
  p->time_field = *f;
  if (const YAML::Node& u = n["unit"]) {
    std::string s = u.IsScalar() ? u.Scalar() : "";
    if (s == "s")
      p->time_unit = core::TimeUnit::kSeconds;
    else if (s == "ms")
      p->time_unit = core::TimeUnit::kMillis;
    else if (s == "us")
      p->time_unit = core::TimeUnit::kMicros;
    else if (s == "iso8601")
      p->time_unit = core::TimeUnit::kIso8601;
    else
      return r.Error(u, "event_time.unit", "expected s, ms, us or iso8601");
  }
  return Status::Ok();
}

Status ParseFields(const YamlReader& r, const YAML::Node& n, Pipeline* p) {
  if (!n.IsMap() || n.size() == 0)
    return r.Error(n, "fields", "expected a mapping of field names to types");
  std::vector<core::FieldDef> defs;
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    std::string path = "fields." + name;
    std::string t = kv.second.IsScalar() ? kv.second.Scalar() : "";
    core::FieldType type;
    if (t == "string")
      type = core::FieldType::kString;
    else if (t == "double")
      type = core::FieldType::kDouble;
    else if (t == "int")
      type = core::FieldType::kInt;
    else if (t == "bool")
      type = core::FieldType::kBool;
    else
      return r.Error(kv.second, path, "expected a type: string, double, int or bool");
    for (const auto& d : defs) {
      if (d.name == name) return r.Error(kv.first, path, "field declared twice");
    }
    defs.push_back({name, type});
  }
  if (p->time_field.empty()) return r.ErrorAt(0, "event_time", "required key is missing");
  for (const auto& d : defs) {
    if (d.name == p->time_field && p->time_unit == core::TimeUnit::kIso8601 &&
        d.type != core::FieldType::kString) {
      return r.Error(n[d.name], "fields." + d.name,
                     "the iso8601 event-time field must be a string");
    }
    if (d.name == p->time_field && p->time_unit != core::TimeUnit::kIso8601 &&
        !core::IsNumeric(d.type)) {
      return r.Error(n[d.name], "fields." + d.name,
                     "a numeric event-time unit needs a double or int field");
    }
  }
  p->schema = core::Schema(std::move(defs), p->time_field, p->time_unit);
  return Status::Ok();
}

}  // namespace

namespace {

Status ParseModel(const YamlReader& r, const YAML::Node& n, Pipeline* p) {
  SLUICE_RETURN_IF_ERROR(r.CheckMap(n, "model", {"file", "registry", "name", "alias", "version"}));
  ModelSpec m;
  if (n["file"] && (n["registry"] || n["name"])) {
    return r.Error(n, "model", "give either file or registry+name, not both");
  }
  if (n["file"]) {
    auto f = r.String(n["file"], "model.file");
    if (!f.ok()) return f.status();
    m.file = Resolve(*p, *f);
  } else {
    SLUICE_RETURN_IF_ERROR(r.CheckRequired(n, "model", "registry"));
    SLUICE_RETURN_IF_ERROR(r.CheckRequired(n, "model", "name"));
    auto reg = r.String(n["registry"], "model.registry");
    if (!reg.ok()) return reg.status();
    auto name = r.String(n["name"], "model.name");
    if (!name.ok()) return name.status();
    m.registry = Resolve(*p, *reg);
    m.name = *name;
    if (n["alias"] && n["version"])
      return r.Error(n["version"], "model", "give either alias or version");
    if (n["alias"]) {
      auto a = r.String(n["alias"], "model.alias");
      if (!a.ok()) return a.status();
      m.alias = *a;
    }
    if (n["version"]) {
      auto v = r.Int(n["version"], "model.version", 1, INT32_MAX);
      if (!v.ok()) return v.status();
      m.version = *v;
      m.alias.clear();
    }
  }
  p->model = m;
  return Status::Ok();
}

Status ParseLabels(const YamlReader& r, const YAML::Node& n, Pipeline* p) {
  SLUICE_RETURN_IF_ERROR(
      r.CheckMap(n, "labels", {"file", "event_id", "label", "time", "maturity", "default_label"}));
  LabelsSpec l;
  for (const char* k : {"event_id", "label", "time"})
    SLUICE_RETURN_IF_ERROR(r.CheckRequired(n, "labels", k));
  auto get = [&](const char* k, std::string* out) -> Status {
    auto s = r.String(n[k], Join("labels", k));
    if (!s.ok()) return s.status();
    *out = *s;
    return Status::Ok();
  };
  if (n["file"]) {
    SLUICE_RETURN_IF_ERROR(get("file", &l.file));
    l.file = Resolve(*p, l.file);
  }
  SLUICE_RETURN_IF_ERROR(get("event_id", &l.event_id));
  SLUICE_RETURN_IF_ERROR(get("label", &l.label));
  SLUICE_RETURN_IF_ERROR(get("time", &l.time));
  if (n["maturity"]) {
    auto m = r.Dur(n["maturity"], "labels.maturity");
    if (!m.ok()) return m.status();
    l.maturity = *m;
  }
  if (n["default_label"]) {
    auto d = r.Double(n["default_label"], "labels.default_label");
    if (!d.ok()) return d.status();
    l.default_label = *d;
  }
  if (p->event_id.empty()) return r.Error(n, "labels", "label joins need the spec's event_id");
  if (l.event_id != p->event_id) {
    return r.Error(n["event_id"], "labels.event_id",
                   "must name the spec's event_id field '" + p->event_id + "'");
  }
  p->labels = l;
  return Status::Ok();
}

Status ParseServe(const YamlReader& r, const YAML::Node& n, Pipeline* p) {
  SLUICE_RETURN_IF_ERROR(r.CheckMap(n, "serve", {"http", "admin_token_env"}));
  ServeSpec s;
  SLUICE_RETURN_IF_ERROR(r.CheckRequired(n, "serve", "http"));
  auto h = r.String(n["http"], "serve.http");
  if (!h.ok()) return h.status();
  s.http = *h;
  if (n["admin_token_env"]) {
    auto t = r.String(n["admin_token_env"], "serve.admin_token_env");
    if (!t.ok()) return t.status();
    s.admin_token_env = *t;
  }
  p->serve = s;
  return Status::Ok();
}

Status ParseHeader(const YamlReader& r, const YAML::Node& root, Pipeline* p) {
  auto name = r.String(root["name"], "name");
  if (!name.ok()) return name.status();
  p->name = *name;
  SLUICE_RETURN_IF_ERROR(ParseEventTime(r, root["event_time"], p));
  if (root["event_id"]) {
    auto id = r.String(root["event_id"], "event_id");
    if (!id.ok()) return id.status();
    p->event_id = *id;
  }
  if (root["allowed_lateness"]) {
    auto l = r.Dur(root["allowed_lateness"], "allowed_lateness");
    if (!l.ok()) return l.status();
    p->allowed_lateness = *l;
  }
  if (root["state_ttl"]) {
    auto t = r.Dur(root["state_ttl"], "state_ttl");
    if (!t.ok()) return t.status();
    if (t->micros() <= 0) return r.Error(root["state_ttl"], "state_ttl", "must be positive");
    p->state_ttl = *t;
    p->state_ttl_given = true;
    p->state_ttl_line = r.Loc(root["state_ttl"], "state_ttl").line;
  }
  SLUICE_RETURN_IF_ERROR(ParseFields(r, root["fields"], p));
  if (!p->event_id.empty()) {
    int i = p->schema.Find(p->event_id);
    p->event_id_index = i;
    if (i < 0)
      return r.Error(root["event_id"], "event_id",
                     "no field named '" + p->event_id + "' in fields");
  }
  return Status::Ok();
}

Status ParseRoot(const YamlReader& r, const YAML::Node& root, Pipeline* p) {
  SLUICE_RETURN_IF_ERROR(
      r.CheckMap(root, "",
                 {"name", "source", "event_time", "event_id", "allowed_lateness", "state_ttl",
                  "fields", "features", "model", "output", "dead_letter", "labels", "serve"}));
  for (const char* k : {"name", "event_time", "fields", "features"}) {
    SLUICE_RETURN_IF_ERROR(r.CheckRequired(root, "", k));
  }
  SLUICE_RETURN_IF_ERROR(ParseHeader(r, root, p));
  if (root["source"]) SLUICE_RETURN_IF_ERROR(ParseSource(r, root["source"], p));
  SLUICE_RETURN_IF_ERROR(internal::ParseFeatures(r, root["features"], p));
  if (root["model"]) SLUICE_RETURN_IF_ERROR(ParseModel(r, root["model"], p));
  if (root["output"]) {
    p->output.emplace();
    SLUICE_RETURN_IF_ERROR(ParseSink(r, root["output"], "output", true, p, &*p->output));
  }
  if (root["dead_letter"]) {
    p->dead_letter.emplace();
    SLUICE_RETURN_IF_ERROR(
        ParseSink(r, root["dead_letter"], "dead_letter", false, p, &*p->dead_letter));
  }
  if (p->output && p->output->exactly_once) {
    const YAML::Node& eo = root["output"]["exactly_once"];
    if (!p->source.kafka)
      return r.Error(eo, "output.exactly_once",
                     "needs a kafka source (offsets commit with outputs)");
    if (p->dead_letter && p->dead_letter->kafka &&
        p->dead_letter->kafka->brokers != p->output->kafka->brokers) {
      return r.Error(
          root["dead_letter"]["kafka"], "dead_letter.kafka",
          "with output.exactly_once, dead letters on kafka must use the output's brokers "
          "(one transaction covers both)");
    }
  }
  if (root["labels"]) SLUICE_RETURN_IF_ERROR(ParseLabels(r, root["labels"], p));
  if (root["serve"]) SLUICE_RETURN_IF_ERROR(ParseServe(r, root["serve"], p));
  return Status::Ok();
}

}  // namespace

std::string Pipeline::Where(const Location& loc) const {
  return spec_path + ":" + (loc.line > 0 ? std::to_string(loc.line) : std::string("?")) + ": " +
         loc.path;
}

std::vector<std::string> Pipeline::ModelInputCandidates() const {
  std::vector<std::string> names;
  for (const auto& f : features) names.push_back(f.name);
  for (const auto& f : schema.fields()) {
    if (f.type != core::FieldType::kString) names.push_back(f.name);
  }
  return names;
}

int Pipeline::FindFeature(const std::string& n) const {
  for (size_t i = 0; i < features.size(); ++i) {
    if (features[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

Result<Pipeline> ParsePipeline(const std::string& text, const std::string& path) {
  YamlReader r(path);
  Pipeline p;
  p.spec_path = path;
  p.base_dir = std::filesystem::path(path).parent_path().string();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return r.ErrorAt(e.mark.line + 1, "", "YAML syntax error: " + e.msg);
  }
  if (!root.IsMap())
    return r.ErrorAt(1, "", "a pipeline spec is a YAML mapping (name:, fields:, features: ...)");
  try {
    SLUICE_RETURN_IF_ERROR(ParseRoot(r, root, &p));
  } catch (const YAML::Exception& e) {
    return r.ErrorAt(e.mark.line + 1, "", "invalid spec: " + e.msg);
  }
  return p;
}

Result<Pipeline> LoadPipeline(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read spec " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParsePipeline(ss.str(), path);
}

const char* AggName(AggKind k) {
  switch (k) {
    case AggKind::kCount:
      return "count";
    case AggKind::kSum:
      return "sum";
    case AggKind::kMean:
      return "mean";
    case AggKind::kMin:
      return "min";
    case AggKind::kMax:
      return "max";
    case AggKind::kVar:
      return "var";
    case AggKind::kStddev:
      return "stddev";
    case AggKind::kCountDistinct:
      return "count_distinct";
    case AggKind::kFirst:
      return "first";
    case AggKind::kLast:
      return "last";
    case AggKind::kEwma:
      return "ewma";
    case AggKind::kTimeSinceLast:
      return "time_since_last";
  }
  return "?";
}

}  // namespace sluice::spec
