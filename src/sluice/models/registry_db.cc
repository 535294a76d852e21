#include "sluice/models/registry_db.h"

#include <chrono>
#include <thread>

namespace sluice::models {

core::Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path,
                                                       int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw, path));  // owns raw even when open failed
  if (rc != SQLITE_OK) return db->Error("cannot open");
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  db->busy_timeout_ms_ = busy_timeout_ms;
  sqlite3_extended_result_codes(raw, 1);
  // WAL lets readers run beside a writer; FULL syncs the WAL on every commit, so a registered
  // version survives a power cut.
  SLUICE_RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return db;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

// SQLite's busy handler does not cover every wait: opening a WAL database while another process
// runs recovery or the last connection's checkpoint, or switching the journal mode, can return
// SQLITE_BUSY at once. Such statements are retried here until the busy timeout has passed.
core::Status SqliteDb::Exec(const std::string& sql) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms_);
  for (int attempt = 0;; ++attempt) {
    char* msg = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
    if (rc == SQLITE_OK) return core::Status::Ok();
    std::string text = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline)
      return core::Status::IoError(path_ + ": " + text);
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + attempt % 10));
  }
}

core::Result<SqliteStatement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return Error("cannot prepare a statement");
  return SqliteStatement(this, s);
}

core::Status SqliteDb::Error(std::string_view what) const {
  const char* msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
  return core::Status::IoError(path_ + ": " + std::string(what) + ": " + msg);
}

SqliteStatement::SqliteStatement(SqliteStatement&& o) noexcept
    : db_(o.db_), stmt_(o.stmt_), bind_error_(o.bind_error_) {
  o.stmt_ = nullptr;
}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    bind_error_ = o.bind_error_;
    o.stmt_ = nullptr;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::Check(int rc) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

SqliteStatement& SqliteStatement::Bind(int i, int64_t v) {
  Check(sqlite3_bind_int64(stmt_, i, v));
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int i, std::string_view v) {
  Check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int i, std::optional<int64_t> v) {
  return v ? Bind(i, *v) : BindNull(i);
}

SqliteStatement& SqliteStatement::BindNull(int i) {
  Check(sqlite3_bind_null(stmt_, i));
  return *this;
}

core::Result<bool> SqliteStatement::Step() {
  if (bind_error_ != SQLITE_OK)
    return core::Status::Internal(std::string("binding a parameter failed: ") +
                                  sqlite3_errstr(bind_error_));
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(db_->busy_timeout_ms_);
  for (int attempt = 0;; ++attempt) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // A read outside a transaction that met a lock the busy handler does not wait for (see
    // SqliteDb::Exec) can simply start again; inside a transaction the caller must roll back.
    const bool retry = (rc & 0xff) == SQLITE_BUSY && sqlite3_get_autocommit(db_->handle()) &&
                       std::chrono::steady_clock::now() < deadline;
    if (!retry) return db_->Error("statement failed");
    sqlite3_reset(stmt_);
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + attempt % 10));
  }
}

core::Status SqliteStatement::Run() {
  for (;;) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return core::Status::Ok();
  }
}

core::Status SqliteStatement::Reset() {
  bind_error_ = SQLITE_OK;
  sqlite3_clear_bindings(stmt_);
  return sqlite3_reset(stmt_) == SQLITE_OK ? core::Status::Ok() : db_->Error("reset failed");
}

int64_t SqliteStatement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string SqliteStatement::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::optional<int64_t> SqliteStatement::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

bool SqliteStatement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

core::Result<std::unique_ptr<SqliteTransaction>> SqliteTransaction::Begin(SqliteDb* db) {
  SLUICE_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<SqliteTransaction>(new SqliteTransaction(db));
}

SqliteTransaction::~SqliteTransaction() {
  if (!done_) (void)db_->Exec("ROLLBACK");
}

core::Status SqliteTransaction::Commit() {
  SLUICE_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  done_ = true;
  return core::Status::Ok();
}

}  // namespace sluice::models
