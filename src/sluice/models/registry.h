#pragma once
// The model registry, embedded: metadata in SQLite (DIR/registry.db) and artifacts in a
// content-addressed store (DIR/artifacts/sha256/ab/cdef...). Versions are numbered 1, 2, 3...
// per model name and never change once written; aliases (production, canary, any name) point at
// versions, and every alias change is appended to a history that rollback replays.
// docs/models.md describes the layout and the tables.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/models/artifact_store.h"

namespace sluice::models {

class SqliteDb;

// One immutable registered version.
struct ModelVersion {
  std::string name;
  int64_t version = 0;
  std::string artifact_sha256;
  int64_t artifact_bytes = 0;
  std::string format;           // "sluice-linear", "xgboost-json" or "opaque"
  std::string spec_hash;        // SHA-256 of the pipeline spec it was trained for; "" if none
  std::string training_digest;  // digest of the training set; "" if none
  std::string params_json = "{}";
  std::string metrics_json = "{}";
  std::optional<int64_t> parent;  // a version of the same name
  std::string created_at;         // ISO-8601 UTC, milliseconds
  std::string created_by;
  std::string reason;
  std::string profile_sha256;  // the reference profile (an artifact too); "" if none
};

// What Register() needs; the registry assigns the version number and created_at.
struct NewVersion {
  std::string name;
  std::string artifact;  // the model file's bytes
  std::string spec_hash, training_digest;
  std::vector<std::pair<std::string, std::string>> params;  // stored as a JSON object of strings
  std::string metrics_json = "{}";                          // must be a JSON object
  std::optional<int64_t> parent;
  std::string created_by, reason;
  std::string profile;  // the reference profile's JSON (learn/profile.h); empty: none
};

// One entry of an alias's append-only history.
struct AliasChange {
  int64_t seq = 0;  // global order of changes
  std::string name, alias;
  std::string action;           // "set" or "rollback"
  std::optional<int64_t> from;  // version before the change; none when the alias was new
  int64_t to = 0;
  std::string at, by, reason;
};

struct AliasTarget {
  std::string alias;
  int64_t version = 0;
};

struct ModelSummary {
  std::string name;
  int64_t versions = 0;
  int64_t latest = 0;
  std::string latest_created_at;
  std::vector<AliasTarget> aliases;
};

struct RegistryOptions {
  bool create = true;  // false: NotFound when DIR holds no registry
  int busy_timeout_ms = 30000;
};

// A handle on one registry folder. Not thread-safe (it owns one SQLite connection): use one
// Registry per thread. Any number of processes and threads may open the same folder and write
// at once: writes run in BEGIN IMMEDIATE transactions (version numbers are allocated inside
// them) and artifacts are written with temp file + fsync + rename before their row commits.
class Registry {
 public:
  static core::Result<std::unique_ptr<Registry>> Open(const std::string& dir,
                                                      const RegistryOptions& options = {});
  ~Registry();

  // Stores the artifact and records the next version of v.name. InvalidArgument for a bad
  // name, metrics that are not a JSON object, an unknown parent, or a malformed sluice-linear
  // model.
  core::Result<ModelVersion> Register(const NewVersion& v);

  core::Result<ModelVersion> GetVersion(const std::string& name, int64_t version);
  // The version an alias points at; the alias "latest" is the highest version.
  core::Result<ModelVersion> Resolve(const std::string& name, const std::string& alias);
  // The version, then its parent, its parent's parent... (oldest last).
  core::Result<std::vector<ModelVersion>> Lineage(const std::string& name, int64_t version);
  core::Result<std::vector<ModelSummary>> ListModels();
  core::Result<std::vector<ModelVersion>> ListVersions(const std::string& name);
  core::Result<std::vector<AliasTarget>> Aliases(const std::string& name);

  // Points name@alias at version (which must exist). Setting the version it already points at
  // changes nothing and records nothing (the returned change has from == to).
  core::Result<AliasChange> SetAlias(const std::string& name, const std::string& alias,
                                     int64_t version, const std::string& by,
                                     const std::string& reason);
  // Returns name@alias to the version it pointed at before its latest set that has not been
  // rolled back already: set 1, set 2, set 3, rollback → 2, rollback → 1. NotFound when there
  // is no earlier version.
  core::Result<AliasChange> Rollback(const std::string& name, const std::string& alias,
                                     const std::string& by, const std::string& reason);
  // Every change of the model's aliases (or of one alias), oldest first.
  core::Result<std::vector<AliasChange>> History(const std::string& name,
                                                 const std::string& alias = "");

  // The artifact's bytes, re-hashed: Corruption if they no longer match the recorded SHA-256.
  core::Result<std::string> LoadArtifact(const ModelVersion& v);
  // The reference profile's JSON, re-hashed likewise; NotFound when the version has none.
  core::Result<std::string> LoadProfile(const ModelVersion& v);
  const ArtifactStore& store() const { return store_; }
  const std::string& dir() const { return dir_; }

 private:
  Registry(std::string dir, std::unique_ptr<SqliteDb> db);
  core::Status RequireModel(const std::string& name);
  core::Result<std::vector<AliasChange>> HistoryRows(const std::string& name,
                                                     const std::string& alias);
  core::Result<AliasChange> AppendChange(AliasChange change);

  std::string dir_;
  std::unique_ptr<SqliteDb> db_;
  ArtifactStore store_;
};

// Model and alias names: 1-128 of [A-Za-z0-9_.-], starting with a letter or digit.
core::Status CheckRegistryName(const std::string& what, const std::string& name);

}  // namespace sluice::models
