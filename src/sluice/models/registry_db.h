#pragma once
// RAII wrappers for the SQLite C API as the registry uses it: a connection, prepared statements
// and BEGIN IMMEDIATE transactions. Errors come back as Status, never as exceptions.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/status.h"

namespace sluice::models {

class SqliteStatement;

// One sqlite3 connection. Not thread-safe: use one per thread (SQLite itself serialises
// writers across connections and processes).
class SqliteDb {
 public:
  // Opens (creating if needed) the database, with WAL journaling, synchronous=FULL, foreign keys
  // and a busy timeout so concurrent writers wait for each other instead of failing.
  static core::Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, int busy_timeout_ms);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows.
  core::Status Exec(const std::string& sql);
  core::Result<SqliteStatement> Prepare(std::string_view sql);
  // The connection's last error, prefixed by what was being done.
  core::Status Error(std::string_view what) const;
  sqlite3* handle() const { return db_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  friend class SqliteStatement;
  sqlite3* db_;
  std::string path_;
  int busy_timeout_ms_ = 0;
};

// A prepared statement; owned by the caller, must not outlive its SqliteDb. Not thread-safe.
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&&) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) noexcept;
  ~SqliteStatement();

  // Parameters are 1-based, as in SQLite. A failed bind is reported by the next Step().
  SqliteStatement& Bind(int i, int64_t v);
  SqliteStatement& Bind(int i, std::string_view v);
  SqliteStatement& Bind(int i, std::optional<int64_t> v);
  SqliteStatement& BindNull(int i);
  // true: a row is ready; false: done.
  core::Result<bool> Step();
  // Step() until done (for statements that return no rows).
  core::Status Run();
  core::Status Reset();

  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::optional<int64_t> OptInt(int col) const;
  bool IsNull(int col) const;

 private:
  friend class SqliteDb;
  SqliteStatement(SqliteDb* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  void Check(int rc);
  SqliteDb* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = SQLITE_OK;
};

// BEGIN IMMEDIATE on construction (takes the write lock at once, waiting per the busy timeout,
// so the read-then-write inside cannot be interleaved with another writer); rolls back on
// destruction unless Commit() succeeded. Not thread-safe.
class SqliteTransaction {
 public:
  static core::Result<std::unique_ptr<SqliteTransaction>> Begin(SqliteDb* db);
  ~SqliteTransaction();
  core::Status Commit();

 private:
  explicit SqliteTransaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;
  bool done_ = false;
};

}  // namespace sluice::models
