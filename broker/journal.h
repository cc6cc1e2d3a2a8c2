// The broker's durable record of accepted jobs (SQLite, WAL mode).
//
// A job is written before the broker replies `accepted`, marked with its final
// state when its result is published, and every job still open is loaded back
// into the queue when the broker restarts. synchronous=NORMAL: a committed job
// survives a crash of the broker process (not necessarily a power cut).
//
// Finished rows are kept for a day (for inspection) and deleted when the journal
// is next opened.
//
// Table `jobs`: id TEXT PRIMARY KEY, kind TEXT, n TEXT, priority INTEGER,
// max_seconds REAL (NULL = none), deaths INTEGER, submitted_unix_ms INTEGER,
// state TEXT ('open' or a final JobState name), finished_unix_ms INTEGER.
//
// Not thread-safe: used by the broker's loop thread only.
#ifndef ZFACTOR_BROKER_JOURNAL_H_
#define ZFACTOR_BROKER_JOURNAL_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::broker {

struct JournalJob {
  std::string id;
  proto::Kind kind = proto::Kind::kFactor;
  std::string n;
  int priority = 5;
  std::optional<double> max_seconds;
  int deaths = 0;  // times a worker died while running it
};

class Journal {
 public:
  // Opens (creating if needed) the journal at `path`.
  static proto::StatusOr<std::unique_ptr<Journal>> Open(const std::string& path);

  // Records an accepted job as open. Adding an id that is already open is a no-op.
  proto::Status Add(const JournalJob& job);
  // Marks a job final (done, failed or cancelled).
  proto::Status Finish(const std::string& id, proto::JobState state);
  // Records how many times the job's worker died, so the retry cap holds across restarts.
  proto::Status SetDeaths(const std::string& id, int deaths);
  // Every open job, oldest first.
  proto::StatusOr<std::vector<JournalJob>> LoadOpen();

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  Journal() = default;
  proto::Error SqlError(const std::string& what) const;
  proto::StatusOr<Stmt> Prepare(const char* sql);

  std::unique_ptr<sqlite3, DbCloser> db_;
  Stmt add_;
  Stmt finish_;
  Stmt set_deaths_;
};

}  // namespace zfactor::broker

#endif  // ZFACTOR_BROKER_JOURNAL_H_
