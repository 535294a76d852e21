// Registry: aliases, their append-only history, and rollback by replaying that history.
#include <algorithm>

#include "sluice/models/registry.h"
#include "sluice/models/registry_db.h"
#include "sluice/models/registry_internal.h"

namespace sluice::models {

namespace {

constexpr char kLatest[] = "latest";

AliasChange ReadChange(const SqliteStatement& s) {
  return AliasChange{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.OptInt(4),
                     s.Int(5), s.Text(6), s.Text(7), s.Text(8)};
}

// The versions an alias has pointed at, as an undo stack: a set pushes, a rollback pops.
std::vector<int64_t> ReplayStack(const std::vector<AliasChange>& history) {
  std::vector<int64_t> stack;
  for (const auto& c : history) {
    if (c.action == "rollback") {
      if (!stack.empty()) stack.pop_back();
    } else {
      stack.push_back(c.to);
    }
  }
  return stack;
}

core::Status CheckAlias(const std::string& alias) {
  SLUICE_RETURN_IF_ERROR(CheckRegistryName("alias", alias));
  if (alias == kLatest)
    return core::Status::InvalidArgument(
        "'latest' always means the highest version; "
        "it cannot be set");
  return core::Status::Ok();
}

}  // namespace

core::Result<std::vector<AliasTarget>> Registry::Aliases(const std::string& name) {
  auto s = db_->Prepare("SELECT alias, version FROM aliases WHERE name = ? ORDER BY alias");
  if (!s.ok()) return s.status();
  s->Bind(1, name);
  std::vector<AliasTarget> out;
  for (;;) {
    auto row = s->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({s->Text(0), s->Int(1)});
  }
}

core::Result<ModelVersion> Registry::Resolve(const std::string& name, const std::string& alias) {
  auto s = alias == kLatest
               ? db_->Prepare("SELECT MAX(version) FROM versions WHERE name = ?1 HAVING COUNT(*)")
               : db_->Prepare("SELECT version FROM aliases WHERE name = ?1 AND alias = ?2");
  if (!s.ok()) return s.status();
  s->Bind(1, name);
  if (alias != kLatest) s->Bind(2, alias);
  auto row = s->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    SLUICE_RETURN_IF_ERROR(RequireModel(name));
    return core::Status::NotFound("model '" + name + "' has no alias '" + alias + "'");
  }
  return GetVersion(name, s->Int(0));
}

core::Result<std::vector<AliasChange>> Registry::HistoryRows(const std::string& name,
                                                             const std::string& alias) {
  auto s = db_->Prepare(
      "SELECT seq, name, alias, action, from_version, to_version, at, by, reason "
      "FROM alias_history WHERE name = ?1 AND (?2 = '' OR alias = ?2) ORDER BY seq");
  if (!s.ok()) return s.status();
  s->Bind(1, name).Bind(2, alias);
  std::vector<AliasChange> out;
  for (;;) {
    auto row = s->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(ReadChange(*s));
  }
}

core::Result<std::vector<AliasChange>> Registry::History(const std::string& name,
                                                         const std::string& alias) {
  SLUICE_RETURN_IF_ERROR(RequireModel(name));
  return HistoryRows(name, alias);
}

// Inside the caller's transaction: moves the alias and appends the change.
core::Result<AliasChange> Registry::AppendChange(AliasChange c) {
  c.at = NowUtc();
  auto up = db_->Prepare(
      "INSERT INTO aliases (name, alias, version) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version");
  if (!up.ok()) return up.status();
  up->Bind(1, c.name).Bind(2, c.alias).Bind(3, c.to);
  SLUICE_RETURN_IF_ERROR(up->Run());
  auto log = db_->Prepare(
      "INSERT INTO alias_history (name, alias, action, from_version, to_version, at, by, reason) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq");
  if (!log.ok()) return log.status();
  log->Bind(1, c.name).Bind(2, c.alias).Bind(3, c.action).Bind(4, c.from).Bind(5, c.to);
  log->Bind(6, c.at).Bind(7, c.by).Bind(8, c.reason);
  auto row = log->Step();
  if (!row.ok()) return row.status();
  c.seq = log->Int(0);
  SLUICE_RETURN_IF_ERROR(log->Run());
  return c;
}

core::Result<AliasChange> Registry::SetAlias(const std::string& name, const std::string& alias,
                                             int64_t version, const std::string& by,
                                             const std::string& reason) {
  SLUICE_RETURN_IF_ERROR(CheckAlias(alias));
  auto txn = SqliteTransaction::Begin(db_.get());
  if (!txn.ok()) return txn.status();
  auto target = GetVersion(name, version);
  if (!target.ok()) return target.status();
  auto aliases = Aliases(name);
  if (!aliases.ok()) return aliases.status();
  AliasChange c{0, name, alias, "set", std::nullopt, version, "", by, reason};
  for (const auto& a : *aliases) {
    if (a.alias == alias) c.from = a.version;
  }
  if (c.from == version) return c;  // already there: nothing changes, nothing to record
  auto done = AppendChange(std::move(c));
  if (!done.ok()) return done.status();
  SLUICE_RETURN_IF_ERROR((*txn)->Commit());
  return done;
}

core::Result<AliasChange> Registry::Rollback(const std::string& name, const std::string& alias,
                                             const std::string& by, const std::string& reason) {
  SLUICE_RETURN_IF_ERROR(CheckAlias(alias));
  auto txn = SqliteTransaction::Begin(db_.get());
  if (!txn.ok()) return txn.status();
  auto history = History(name, alias);
  if (!history.ok()) return history.status();
  if (history->empty())
    return core::Status::NotFound("model '" + name + "' has no alias '" + alias + "'");
  const std::vector<int64_t> stack = ReplayStack(*history);
  if (stack.size() < 2) {
    return core::Status::NotFound("nothing to roll back: " + name + "@" + alias +
                                  " has no earlier version in its history");
  }
  AliasChange c{0, name, alias, "rollback", stack.back(), stack[stack.size() - 2], "", by, reason};
  auto done = AppendChange(std::move(c));
  if (!done.ok()) return done.status();
  SLUICE_RETURN_IF_ERROR((*txn)->Commit());
  return done;
}

}  // namespace sluice::models
