#include "broker/journal.h"

#include <chrono>

namespace zfactor::broker {

using proto::ErrorCode;
using proto::MakeError;

namespace {

constexpr int64_t kKeepFinishedMs = 24 * 3600 * 1000;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

proto::Error Journal::SqlError(const std::string& what) const {
  return MakeError(ErrorCode::kInternal,
                   "journal: " + what + ": " + (db_ ? sqlite3_errmsg(db_.get()) : "no database"));
}

proto::StatusOr<Journal::Stmt> Journal::Prepare(const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return SqlError("prepare");
  }
  return Stmt(raw);
}

proto::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  std::unique_ptr<Journal> j(new Journal());  // private constructor
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  j->db_.reset(raw);
  if (rc != SQLITE_OK) return j->SqlError("open " + path);
  sqlite3_busy_timeout(raw, 2000);
  const char* setup =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS jobs ("
      "  id TEXT PRIMARY KEY, kind TEXT NOT NULL, n TEXT NOT NULL, priority INTEGER NOT NULL,"
      "  max_seconds REAL, deaths INTEGER NOT NULL DEFAULT 0, submitted_unix_ms INTEGER NOT NULL,"
      "  state TEXT NOT NULL, finished_unix_ms INTEGER);"
      "CREATE INDEX IF NOT EXISTS jobs_open ON jobs(state, submitted_unix_ms);";
  char* err = nullptr;
  if (sqlite3_exec(raw, setup, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : "?";
    sqlite3_free(err);
    return MakeError(ErrorCode::kInternal, "journal: setup " + path + ": " + message);
  }
  sqlite3_stmt* prune = nullptr;
  if (sqlite3_prepare_v2(raw, "DELETE FROM jobs WHERE state <> 'open' AND finished_unix_ms < ?1",
                         -1, &prune, nullptr) == SQLITE_OK) {
    sqlite3_bind_int64(prune, 1, UnixMs() - kKeepFinishedMs);
    sqlite3_step(prune);  // best effort: a failed prune only leaves old rows
  }
  sqlite3_finalize(prune);
  // A finished id may be submitted again later: the new job replaces the old row.
  auto add = j->Prepare(
      "INSERT INTO jobs(id, kind, n, priority, max_seconds, deaths, submitted_unix_ms, state)"
      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open')"
      " ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, n=excluded.n, priority=excluded.priority,"
      "  max_seconds=excluded.max_seconds, deaths=excluded.deaths,"
      "  submitted_unix_ms=excluded.submitted_unix_ms, state='open', finished_unix_ms=NULL"
      " WHERE jobs.state <> 'open'");
  if (!add.ok()) return add.error();
  auto finish =
      j->Prepare("UPDATE jobs SET state=?2, finished_unix_ms=?3 WHERE id=?1 AND state='open'");
  if (!finish.ok()) return finish.error();
  auto deaths = j->Prepare("UPDATE jobs SET deaths=?2 WHERE id=?1 AND state='open'");
  if (!deaths.ok()) return deaths.error();
  j->add_ = std::move(add).value();
  j->finish_ = std::move(finish).value();
  j->set_deaths_ = std::move(deaths).value();
  return j;
}

proto::Status Journal::Add(const JournalJob& job) {
  sqlite3_stmt* s = add_.get();
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, job.id.data(), static_cast<int>(job.id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, proto::KindName(job.kind), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, job.n.data(), static_cast<int>(job.n.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int(s, 4, job.priority);
  if (job.max_seconds) {
    sqlite3_bind_double(s, 5, *job.max_seconds);
  } else {
    sqlite3_bind_null(s, 5);
  }
  sqlite3_bind_int(s, 6, job.deaths);
  sqlite3_bind_int64(s, 7, UnixMs());
  if (sqlite3_step(s) != SQLITE_DONE) return SqlError("add " + job.id);
  return proto::Status::Ok();
}

proto::Status Journal::Finish(const std::string& id, proto::JobState state) {
  sqlite3_stmt* s = finish_.get();
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, proto::JobStateName(state), -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, UnixMs());
  if (sqlite3_step(s) != SQLITE_DONE) return SqlError("finish " + id);
  return proto::Status::Ok();
}

proto::Status Journal::SetDeaths(const std::string& id, int deaths) {
  sqlite3_stmt* s = set_deaths_.get();
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int(s, 2, deaths);
  if (sqlite3_step(s) != SQLITE_DONE) return SqlError("set deaths " + id);
  return proto::Status::Ok();
}

proto::StatusOr<std::vector<JournalJob>> Journal::LoadOpen() {
  auto stmt = Prepare(
      "SELECT id, kind, n, priority, max_seconds, deaths FROM jobs WHERE state='open'"
      " ORDER BY submitted_unix_ms, rowid");
  if (!stmt.ok()) return stmt.error();
  sqlite3_stmt* s = stmt.value().get();
  std::vector<JournalJob> jobs;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto text = [&](int col) {
      const unsigned char* t = sqlite3_column_text(s, col);
      return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, col))
               : std::string();
    };
    JournalJob job;
    job.id = text(0);
    auto kind = proto::ParseKind(text(1));
    if (!kind) continue;  // not written by this code; skip rather than guess
    job.kind = *kind;
    job.n = text(2);
    job.priority = sqlite3_column_int(s, 3);
    if (sqlite3_column_type(s, 4) != SQLITE_NULL) job.max_seconds = sqlite3_column_double(s, 4);
    job.deaths = sqlite3_column_int(s, 5);
    jobs.push_back(std::move(job));
  }
  if (rc != SQLITE_DONE) return SqlError("load");
  return jobs;
}

}  // namespace zfactor::broker
