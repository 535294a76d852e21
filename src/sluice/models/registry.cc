// Registry: opening, registering versions, reading them. Aliases live in registry_alias.cc.
#include "sluice/models/registry.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "sluice/models/artifact_info.h"
#include "sluice/models/file_util.h"
#include "sluice/models/json_text.h"
#include "sluice/models/registry_db.h"
#include "sluice/models/registry_internal.h"

namespace sluice::models {

namespace {

// Versions and alias history are append-only: triggers refuse UPDATE and DELETE, so not even a
// hand-written SQL statement can rewrite what was recorded.
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '1');
CREATE TABLE IF NOT EXISTS versions (
  name TEXT NOT NULL, version INTEGER NOT NULL,
  artifact_sha256 TEXT NOT NULL, artifact_bytes INTEGER NOT NULL, format TEXT NOT NULL,
  spec_hash TEXT NOT NULL, training_digest TEXT NOT NULL,
  params TEXT NOT NULL, metrics TEXT NOT NULL, parent INTEGER,
  created_at TEXT NOT NULL, created_by TEXT NOT NULL, reason TEXT NOT NULL,
  profile_sha256 TEXT NOT NULL,
  PRIMARY KEY (name, version),
  FOREIGN KEY (name, parent) REFERENCES versions (name, version));
CREATE TRIGGER IF NOT EXISTS versions_no_update BEFORE UPDATE ON versions
  BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS versions_no_delete BEFORE DELETE ON versions
  BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
CREATE TABLE IF NOT EXISTS aliases (
  name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES versions (name, version));
CREATE TABLE IF NOT EXISTS alias_history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, alias TEXT NOT NULL,
  action TEXT NOT NULL, from_version INTEGER, to_version INTEGER NOT NULL,
  at TEXT NOT NULL, by TEXT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alias_history_by_alias ON alias_history (name, alias, seq);
CREATE TRIGGER IF NOT EXISTS alias_history_no_update BEFORE UPDATE ON alias_history
  BEGIN SELECT RAISE(ABORT, 'alias history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS alias_history_no_delete BEFORE DELETE ON alias_history
  BEGIN SELECT RAISE(ABORT, 'alias history is append-only'); END;
)sql";

std::string ParamsJson(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = "{";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(params[i].first, &out);
    out += ':';
    AppendJsonString(params[i].second, &out);
  }
  return out + "}";
}

core::Status CheckNewVersion(const NewVersion& v) {
  SLUICE_RETURN_IF_ERROR(CheckRegistryName("model name", v.name));
  if (!IsJsonObject(v.metrics_json))
    return core::Status::InvalidArgument("metrics must be a JSON object, got: " + v.metrics_json);
  for (size_t i = 0; i < v.params.size(); ++i) {
    if (v.params[i].first.empty()) return core::Status::InvalidArgument("a parameter has no name");
    for (size_t j = 0; j < i; ++j) {
      if (v.params[j].first == v.params[i].first)
        return core::Status::InvalidArgument("parameter '" + v.params[i].first + "' given twice");
    }
  }
  if (v.parent && *v.parent < 1)
    return core::Status::InvalidArgument("a parent version is a positive integer");
  return core::Status::Ok();
}

}  // namespace

std::string NowUtc() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

core::Status CheckRegistryName(const std::string& what, const std::string& name) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  };
  bool ok =
      !name.empty() && name.size() <= 128 && name[0] != '.' && name[0] != '-' && name[0] != '_';
  for (char c : name) ok = ok && ok_char(c);
  if (ok) return core::Status::Ok();
  return core::Status::InvalidArgument(
      what + " '" + name + "' is not valid: use 1-128 letters, digits, '_', '-' or '.', " +
      "starting with a letter or digit");
}

Registry::Registry(std::string dir, std::unique_ptr<SqliteDb> db)
    : dir_(std::move(dir)), db_(std::move(db)), store_(dir_ + "/artifacts") {}

Registry::~Registry() = default;

core::Result<std::unique_ptr<Registry>> Registry::Open(const std::string& dir,
                                                       const RegistryOptions& options) {
  const std::string db_path = dir + "/registry.db";
  struct stat sb;
  if (!options.create && ::stat(db_path.c_str(), &sb) != 0)
    return core::Status::NotFound("no registry at " + dir + " (" + db_path + " does not exist)");
  SLUICE_RETURN_IF_ERROR(MakeDirs(dir + "/artifacts"));
  auto db = SqliteDb::Open(db_path, options.busy_timeout_ms);
  if (!db.ok()) return db.status();
  {
    // Schema creation is a write: serialise it like any other, so two processes creating one
    // registry at once cannot trip over each other.
    auto txn = SqliteTransaction::Begin(db->get());
    if (!txn.ok()) return txn.status();
    SLUICE_RETURN_IF_ERROR((*db)->Exec(kSchema));
    SLUICE_RETURN_IF_ERROR((*txn)->Commit());
  }
  return std::unique_ptr<Registry>(new Registry(dir, std::move(*db)));
}

core::Result<ModelVersion> Registry::Register(const NewVersion& v) {
  SLUICE_RETURN_IF_ERROR(CheckNewVersion(v));
  auto info = DescribeArtifact(v.artifact, v.name);
  if (!info.ok()) return info.status();
  // The artifact goes to disk (fsynced, renamed) before its row commits, so a committed version
  // never points at missing bytes; a crash in between leaves only an unreferenced artifact.
  auto sha = store_.Put(v.artifact);
  if (!sha.ok()) return sha.status();
  std::string profile_sha;
  if (!v.profile.empty()) {
    auto p = store_.Put(v.profile);
    if (!p.ok()) return p.status();
    profile_sha = *p;
  }
  ModelVersion m{v.name,
                 0,
                 *sha,
                 static_cast<int64_t>(v.artifact.size()),
                 info->format,
                 v.spec_hash,
                 v.training_digest,
                 ParamsJson(v.params),
                 v.metrics_json,
                 v.parent,
                 NowUtc(),
                 v.created_by,
                 v.reason,
                 profile_sha};
  auto txn = SqliteTransaction::Begin(db_.get());
  if (!txn.ok()) return txn.status();
  auto next = db_->Prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE name = ?");
  if (!next.ok()) return next.status();
  next->Bind(1, v.name);
  auto row = next->Step();
  if (!row.ok()) return row.status();
  m.version = next->Int(0);
  if (m.parent && *m.parent >= m.version) {
    return core::Status::InvalidArgument("parent version " + std::to_string(*m.parent) +
                                         " of model '" + v.name + "' does not exist");
  }
  SLUICE_RETURN_IF_ERROR(InsertVersion(db_.get(), m));
  SLUICE_RETURN_IF_ERROR((*txn)->Commit());
  return m;
}

core::Result<ModelVersion> Registry::GetVersion(const std::string& name, int64_t version) {
  auto s = db_->Prepare(std::string("SELECT ") + kVersionColumns +
                        " FROM versions WHERE name = ? AND version = ?");
  if (!s.ok()) return s.status();
  s->Bind(1, name).Bind(2, version);
  auto row = s->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    SLUICE_RETURN_IF_ERROR(RequireModel(name));
    return core::Status::NotFound("model '" + name + "' has no version " + std::to_string(version));
  }
  return ReadVersion(*s);
}

core::Result<std::vector<ModelVersion>> Registry::Lineage(const std::string& name,
                                                          int64_t version) {
  std::vector<ModelVersion> chain;
  std::optional<int64_t> next = version;
  // Parents are always older versions (checked at registration), so the walk ends.
  while (next) {
    auto v = GetVersion(name, *next);
    if (!v.ok()) return v.status();
    next = v->parent;
    chain.push_back(std::move(*v));
  }
  return chain;
}

core::Result<std::vector<ModelVersion>> Registry::ListVersions(const std::string& name) {
  SLUICE_RETURN_IF_ERROR(RequireModel(name));
  auto s = db_->Prepare(std::string("SELECT ") + kVersionColumns +
                        " FROM versions WHERE name = ? ORDER BY version");
  if (!s.ok()) return s.status();
  s->Bind(1, name);
  std::vector<ModelVersion> out;
  for (;;) {
    auto row = s->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(ReadVersion(*s));
  }
}

core::Result<std::vector<ModelSummary>> Registry::ListModels() {
  auto s = db_->Prepare(
      "SELECT name, COUNT(*), MAX(version), MAX(created_at) FROM versions GROUP BY name "
      "ORDER BY name");
  if (!s.ok()) return s.status();
  std::vector<ModelSummary> out;
  for (;;) {
    auto row = s->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({s->Text(0), s->Int(1), s->Int(2), s->Text(3), {}});
  }
  for (auto& m : out) {
    auto aliases = Aliases(m.name);
    if (!aliases.ok()) return aliases.status();
    m.aliases = std::move(*aliases);
  }
  return out;
}

core::Result<std::string> Registry::LoadArtifact(const ModelVersion& v) {
  auto bytes = store_.Get(v.artifact_sha256);
  if (!bytes.ok()) return bytes.status().WithContext(v.name + " v" + std::to_string(v.version));
  return bytes;
}

core::Result<std::string> Registry::LoadProfile(const ModelVersion& v) {
  const std::string what = v.name + " v" + std::to_string(v.version);
  if (v.profile_sha256.empty()) return core::Status::NotFound(what + " has no reference profile");
  auto bytes = store_.Get(v.profile_sha256);
  if (!bytes.ok()) return bytes.status().WithContext(what + " profile");
  return bytes;
}

core::Status Registry::RequireModel(const std::string& name) {
  auto s = db_->Prepare("SELECT 1 FROM versions WHERE name = ? LIMIT 1");
  if (!s.ok()) return s.status();
  s->Bind(1, name);
  auto row = s->Step();
  if (!row.ok()) return row.status();
  if (!*row) return core::Status::NotFound("no model named '" + name + "' in " + dir_);
  return core::Status::Ok();
}

}  // namespace sluice::models
