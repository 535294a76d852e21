#pragma once
// The validated description of a pipeline spec (SPEC.md §2). Plain data: built once by
// LoadPipeline, then read by every other module. Immutable and shareable across threads.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sluice/core/schema.h"
#include "sluice/core/status.h"
#include "sluice/core/time.h"

namespace sluice::spec {

enum class AggKind {
  kCount,
  kSum,
  kMean,
  kMin,
  kMax,
  kVar,
  kStddev,
  kCountDistinct,
  kFirst,
  kLast,
  kEwma,
  kTimeSinceLast
};
const char* AggName(AggKind k);

// Where in the spec file a thing was written, for messages like "spec.yaml:12: features[3].of".
struct Location {
  int line = 0;      // 1-based, 0 when unknown
  std::string path;  // key path, e.g. "features[3].window"
};

struct FeatureSpec {
  std::string name;
  Location where;
  bool is_expr = false;
  // Aggregation features.
  AggKind agg = AggKind::kCount;
  std::string of;                // empty: none
  std::vector<std::string> key;  // one or more fields
  std::optional<core::Duration> window;
  std::optional<int64_t> rows;
  std::optional<core::Duration> resolution;
  std::optional<core::Duration> half_life;
  bool exclude_current = false;
  // Expression features.
  std::string expr;
  Location expr_where;
};

struct KafkaSpec {
  std::string brokers;
  std::string topic;
  std::string group;
  std::map<std::string, std::string> config;  // passed through to librdkafka
};

enum class Format { kJsonl, kCsv };

struct SourceSpec {
  std::string file;  // resolved against the spec's folder; empty with kafka or stdin
  std::optional<KafkaSpec> kafka;
  Format format = Format::kJsonl;
  char csv_delimiter = ',';
  int64_t max_record_bytes = 1 << 20;
  bool reject_unknown_fields = false;
};

struct SinkSpec {
  std::string file;
  std::optional<KafkaSpec> kafka;
  bool include_features = false;
  // output only: outputs, dead letters and consumed offsets commit together in Kafka
  // transactions, so a read_committed consumer sees each output once (docs/operations.md).
  // Needs a Kafka source and Kafka output; dead letters on Kafka go to the same cluster.
  bool exactly_once = false;
};

struct ModelSpec {
  std::string file;
  std::string registry;
  std::string name;
  std::string alias = "production";
  std::optional<int64_t> version;
};

struct LabelsSpec {
  std::string file;
  std::string event_id;
  std::string label;
  std::string time;
  core::Duration maturity = core::Duration::Days(30);
  std::optional<double> default_label;
};

struct ServeSpec {
  std::string http;
  std::string admin_token_env;
};

struct Pipeline {
  std::string spec_path;  // as given
  std::string base_dir;   // folder relative paths resolve against
  std::string name;
  SourceSpec source;
  std::string time_field;
  core::TimeUnit time_unit = core::TimeUnit::kMillis;
  std::string event_id;     // empty: none
  int event_id_index = -1;  // schema index of event_id; -1 when none
  core::Duration allowed_lateness;
  core::Duration state_ttl;  // always set: the default is computed when absent
  bool state_ttl_given = false;
  int state_ttl_line = 0;
  core::Schema schema;
  std::vector<FeatureSpec> features;
  std::optional<ModelSpec> model;
  std::optional<SinkSpec> output;
  std::optional<SinkSpec> dead_letter;
  std::optional<LabelsSpec> labels;
  std::optional<ServeSpec> serve;

  // Message prefix "file:line: path" for a location in this spec.
  std::string Where(const Location& loc) const;
  int FindFeature(const std::string& name) const;
  // What can feed a model input (SPEC.md §3): every feature, then every numeric field.
  std::vector<std::string> ModelInputCandidates() const;
};

// Reads and validates a spec file. Errors name the file, line and key; callers exit with 2.
core::Result<Pipeline> LoadPipeline(const std::string& path);
// The same from text; `path` is only used in messages and to resolve relative paths.
core::Result<Pipeline> ParsePipeline(const std::string& text, const std::string& path);

}  // namespace sluice::spec
