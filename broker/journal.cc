#include "broker/journal.h"

#include <chrono>

namespace zfactor::broker {

using proto::ErrorCode;
using proto::MakeError;

namespace {

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Version 1 had no `result` column; version 2 adds it (ALTER TABLE on open).
constexpr int kSchemaVersion = 2;

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS jobs ("
    "  id TEXT PRIMARY KEY, kind TEXT NOT NULL, n TEXT NOT NULL, priority INTEGER NOT NULL,"
    "  max_seconds REAL, deaths INTEGER NOT NULL DEFAULT 0, submitted_unix_ms INTEGER NOT NULL,"
    "  state TEXT NOT NULL, finished_unix_ms INTEGER, result BLOB);"
    "CREATE INDEX IF NOT EXISTS jobs_open ON jobs(state, submitted_unix_ms);";

}  // namespace

proto::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& path,
                                                        JournalLimits limits) {
  auto opened = core::Database::Open(path);
  if (!opened.ok()) return MakeError(ErrorCode::kInternal, "journal: " + opened.error().message);
  core::Database db = std::move(opened).value();
  auto fail = [&](const proto::Error& e) {
    return MakeError(ErrorCode::kInternal, "journal " + path + ": " + e.message);
  };
  auto mode = db.QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return fail(mode.error());
  proto::Status status = db.Exec("PRAGMA synchronous=NORMAL");
  if (!status.ok()) return fail(status.error());
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return fail(version.error());
  if (version.value() > kSchemaVersion) {
    return MakeError(ErrorCode::kInternal, "journal " + path + ": schema version " +
                                               std::to_string(version.value()) +
                                               " is newer than this build's");
  }
  if (version.value() < kSchemaVersion) {
    // A new journal gets the whole schema; one from before version 2 has the
    // table without `result` and gets the column added.
    auto columns = db.QueryInt("SELECT count(*) FROM pragma_table_info('jobs')");
    if (!columns.ok()) return fail(columns.error());
    auto has_result =
        db.QueryInt("SELECT count(*) FROM pragma_table_info('jobs') WHERE name='result'");
    if (!has_result.ok()) return fail(has_result.error());
    std::string upgrade = std::string("BEGIN IMMEDIATE;") + kSchema;
    if (columns.value() > 0 && has_result.value() == 0) {
      upgrade += "ALTER TABLE jobs ADD COLUMN result BLOB;";
    }
    upgrade += "PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";COMMIT;";
    status = db.Exec(upgrade);
    if (!status.ok()) {
      (void)db.Exec("ROLLBACK");
      return fail(status.error());
    }
  }

  std::unique_ptr<Journal> j(new Journal(std::move(db), limits));  // private constructor
  struct {
    core::Statement* stmt;
    const char* sql;
  } const statements[] = {
      // A finished id may be submitted again later: the new job replaces the old row.
      {&j->add_,
       "INSERT INTO jobs(id, kind, n, priority, max_seconds, deaths, submitted_unix_ms, state)"
       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open')"
       " ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, n=excluded.n,"
       "  priority=excluded.priority, max_seconds=excluded.max_seconds, deaths=excluded.deaths,"
       "  submitted_unix_ms=excluded.submitted_unix_ms, state='open', finished_unix_ms=NULL,"
       "  result=NULL"
       " WHERE jobs.state <> 'open'"},
      {&j->finish_,
       "UPDATE jobs SET state=?2, finished_unix_ms=?3, result=?4 WHERE id=?1 AND state='open'"},
      {&j->set_deaths_, "UPDATE jobs SET deaths=?2 WHERE id=?1 AND state='open'"},
      {&j->find_finished_,
       "SELECT id, kind, n, result FROM jobs WHERE id=?1 AND state <> 'open'"
       " AND result IS NOT NULL"},
      {&j->prune_old_, "DELETE FROM jobs WHERE state <> 'open' AND finished_unix_ms < ?1"},
      {&j->prune_excess_,
       "DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs WHERE state <> 'open'"
       " ORDER BY finished_unix_ms DESC, rowid DESC LIMIT -1 OFFSET ?1)"},
  };
  for (const auto& s : statements) {
    auto prepared = j->db_.Prepare(s.sql);
    if (!prepared.ok()) return fail(prepared.error());
    *s.stmt = std::move(prepared).value();
  }
  status = j->Prune();
  if (!status.ok()) return fail(status.error());
  return j;
}

proto::Status Journal::Begin() { return db_.Exec("BEGIN"); }

proto::Status Journal::Commit() {
  proto::Status status = db_.Exec("COMMIT");
  if (!status.ok()) (void)db_.Exec("ROLLBACK");
  return status;
}

proto::Status Journal::Add(const JournalJob& job) {
  add_.Bind(1, job.id).Bind(2, proto::KindName(job.kind)).Bind(3, job.n);
  add_.Bind(4, int64_t{job.priority});
  if (job.max_seconds) {
    add_.Bind(5, *job.max_seconds);
  } else {
    add_.BindNull(5);
  }
  add_.Bind(6, int64_t{job.deaths}).Bind(7, UnixMs());
  return add_.Run();
}

proto::Status Journal::Finish(const std::string& id, proto::JobState state,
                              const std::string& result) {
  finish_.Bind(1, id).Bind(2, proto::JobStateName(state)).Bind(3, UnixMs()).BindBlob(4, result);
  proto::Status status = finish_.Run();
  if (!status.ok()) return status;
  if (++finishes_since_prune_ >= limits_.prune_every) return Prune();
  return proto::Status::Ok();
}

proto::Status Journal::SetDeaths(const std::string& id, int deaths) {
  set_deaths_.Bind(1, id).Bind(2, int64_t{deaths});
  return set_deaths_.Run();
}

proto::Status Journal::Prune() {
  finishes_since_prune_ = 0;
  prune_old_.Bind(1, UnixMs() - limits_.keep_finished_ms);
  proto::Status status = prune_old_.Run();
  if (!status.ok()) return status;
  prune_excess_.Bind(1, limits_.keep_finished_rows);
  return prune_excess_.Run();
}

proto::StatusOr<std::vector<JournalJob>> Journal::LoadOpen() {
  auto stmt = db_.Prepare(
      "SELECT id, kind, n, priority, max_seconds, deaths FROM jobs WHERE state='open'"
      " ORDER BY submitted_unix_ms, rowid");
  if (!stmt.ok()) return stmt.error();
  core::Statement& s = stmt.value();
  std::vector<JournalJob> jobs;
  while (true) {
    auto row = s.Step();
    if (!row.ok()) return row.error();
    if (!row.value()) break;
    auto kind = proto::ParseKind(s.ColumnText(1));
    if (!kind) continue;  // not written by this code; skip rather than guess
    JournalJob job;
    job.id = s.ColumnText(0);
    job.kind = *kind;
    job.n = s.ColumnText(2);
    job.priority = static_cast<int>(s.ColumnInt(3));
    if (!s.ColumnIsNull(4)) job.max_seconds = s.ColumnDouble(4);
    job.deaths = static_cast<int>(s.ColumnInt(5));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

proto::StatusOr<std::optional<FinishedJob>> Journal::FindFinished(const std::string& id) {
  find_finished_.Bind(1, id);
  auto row = find_finished_.Step();
  std::optional<FinishedJob> found;
  if (row.ok() && row.value()) {
    auto kind = proto::ParseKind(find_finished_.ColumnText(1));
    if (kind) {
      found = FinishedJob{find_finished_.ColumnText(0), *kind, find_finished_.ColumnText(2),
                          find_finished_.ColumnText(3)};
    }
  }
  find_finished_.Reset();
  if (!row.ok()) return row.error();
  return found;
}

proto::StatusOr<std::vector<FinishedJob>> Journal::LoadFinished(size_t limit) {
  auto stmt = db_.Prepare(
      "SELECT id, kind, n, result FROM (SELECT rowid, * FROM jobs"
      "  WHERE state <> 'open' AND result IS NOT NULL"
      "  ORDER BY finished_unix_ms DESC, rowid DESC LIMIT ?1)"
      " ORDER BY finished_unix_ms, rowid");
  if (!stmt.ok()) return stmt.error();
  core::Statement& s = stmt.value();
  s.Bind(1, static_cast<int64_t>(limit));
  std::vector<FinishedJob> jobs;
  while (true) {
    auto row = s.Step();
    if (!row.ok()) return row.error();
    if (!row.value()) break;
    auto kind = proto::ParseKind(s.ColumnText(1));
    if (!kind) continue;
    jobs.push_back(FinishedJob{s.ColumnText(0), *kind, s.ColumnText(2), s.ColumnText(3)});
  }
  return jobs;
}

}  // namespace zfactor::broker
