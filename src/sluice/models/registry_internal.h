#pragma once
// Shared by registry.cc and registry_alias.cc; not part of the module's interface.
#include <string>

#include "sluice/models/registry.h"
#include "sluice/models/registry_db.h"

namespace sluice::models {

inline constexpr char kVersionColumns[] =
    "name, version, artifact_sha256, artifact_bytes, format, spec_hash, training_digest, params, "
    "metrics, parent, created_at, created_by, reason, profile_sha256";

inline ModelVersion ReadVersion(const SqliteStatement& s) {
  return ModelVersion{s.Text(0),  s.Int(1),   s.Text(2), s.Int(3),  s.Text(4),
                      s.Text(5),  s.Text(6),  s.Text(7), s.Text(8), s.OptInt(9),
                      s.Text(10), s.Text(11), s.Text(12), s.Text(13)};
}

inline core::Status InsertVersion(SqliteDb* db, const ModelVersion& m) {
  auto s = db->Prepare(std::string("INSERT INTO versions (") + kVersionColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s.ok()) return s.status();
  s->Bind(1, m.name).Bind(2, m.version).Bind(3, m.artifact_sha256).Bind(4, m.artifact_bytes);
  s->Bind(5, m.format).Bind(6, m.spec_hash).Bind(7, m.training_digest).Bind(8, m.params_json);
  s->Bind(9, m.metrics_json).Bind(10, m.parent).Bind(11, m.created_at).Bind(12, m.created_by);
  s->Bind(13, m.reason).Bind(14, m.profile_sha256);
  return s->Run();
}

// Now as ISO-8601 UTC with milliseconds, e.g. 2026-11-25T01:02:03.456Z.
std::string NowUtc();

}  // namespace sluice::models
