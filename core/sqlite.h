// RAII wrappers around the SQLite C API: a connection and a prepared
// statement. Errors come back as proto::Status values carrying SQLite's
// message; nothing throws.
#ifndef ZFACTOR_CORE_SQLITE_H_
#define ZFACTOR_CORE_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proto/error.h"

namespace zfactor::core {

// One prepared statement. REQUIRES: the Database it came from outlives it.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  // Binders take 1-based parameter indexes, as SQLite does. Text and blobs
  // are copied (SQLITE_TRANSIENT), so the arguments need not outlive the call.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  // Steps once: true with a row available, false when done, or an Error.
  proto::StatusOr<bool> Step();
  // Steps to completion (for statements returning no rows), then resets.
  proto::Status Run();
  // Clears bindings and rewinds so the statement can be reused.
  void Reset();

  int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  bool ColumnIsNull(int col) const;
  std::string ColumnText(int col) const;  // text or blob bytes

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

// One connection, closed on destruction. Not thread-safe: use from one
// thread at a time.
class Database {
 public:
  // Opens (creating if needed) the database file at `path`.
  static proto::StatusOr<Database> Open(const std::string& path);

  proto::StatusOr<Statement> Prepare(std::string_view sql);
  // Runs one or more statements that return no rows we need.
  proto::Status Exec(const std::string& sql);
  // Runs a query whose first row's first column is an integer.
  proto::StatusOr<int64_t> QueryInt(std::string_view sql);
  // Runs a query whose first row's first column is text.
  proto::StatusOr<std::string> QueryText(std::string_view sql);

  int64_t Changes() const { return sqlite3_changes64(db_.get()); }
  sqlite3* get() const { return db_.get(); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  explicit Database(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Closer> db_;
};

// An Error carrying SQLite's message for `db`, prefixed with `what`.
proto::Error SqliteError(sqlite3* db, const std::string& what);

}  // namespace zfactor::core

#endif  // ZFACTOR_CORE_SQLITE_H_
