// The broker's durable record of accepted jobs (SQLite, WAL mode).
//
// A job is written before the broker replies `accepted`, marked with its final
// state (and the encoded result message) when its result is published, and
// every job still open is loaded back into the queue when the broker restarts.
// The newest finished jobs are loaded back too, so that a gateway that missed
// a result while the broker restarted still gets it re-published instead of
// having the number computed again. synchronous=NORMAL: a committed job
// survives a crash of the broker process (not necessarily a power cut).
//
// Size: finished rows are kept for at most JournalLimits::keep_finished_ms
// and at most JournalLimits::keep_finished_rows of them; the rest are deleted
// on open and every JournalLimits::prune_every finishes, so the file stops
// growing under steady load (SQLite reuses the freed pages).
//
// Table `jobs`: id TEXT PRIMARY KEY, kind TEXT, n TEXT, priority INTEGER,
// max_seconds REAL (NULL = none), deaths INTEGER, submitted_unix_ms INTEGER,
// state TEXT ('open' or a final JobState name), finished_unix_ms INTEGER,
// result BLOB (the PUB `result` message body; NULL while open).
//
// Not thread-safe: used by the broker's loop thread only.
#ifndef ZFACTOR_BROKER_JOURNAL_H_
#define ZFACTOR_BROKER_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/sqlite.h"
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

// A finished job as LoadFinished returns it.
struct FinishedJob {
  std::string id;
  proto::Kind kind = proto::Kind::kFactor;
  std::string n;
  std::string result;  // the encoded PUB message
};

struct JournalLimits {
  int64_t keep_finished_ms = 24 * 3600 * 1000;
  int64_t keep_finished_rows = 100000;
  int prune_every = 1000;
};

class Journal {
 public:
  // Opens (creating or upgrading if needed) the journal at `path` and prunes it.
  static proto::StatusOr<std::unique_ptr<Journal>> Open(const std::string& path,
                                                        JournalLimits limits = {});

  // Group commit: between Begin() and Commit() every write below joins one
  // transaction. Commit() rolls back and returns the error when it fails.
  proto::Status Begin();
  proto::Status Commit();

  // Records an accepted job as open. Adding an id that is already open is a
  // no-op; adding a finished id opens it again (a new job).
  proto::Status Add(const JournalJob& job);
  // Marks a job final (done, failed or cancelled) with its encoded result message.
  proto::Status Finish(const std::string& id, proto::JobState state, const std::string& result);
  // Records how many times the job's worker died, so the retry cap holds across restarts.
  proto::Status SetDeaths(const std::string& id, int deaths);
  // Every open job, oldest first.
  proto::StatusOr<std::vector<JournalJob>> LoadOpen();
  // The finished job `id` with its result, or nullopt (open, unknown or pruned).
  proto::StatusOr<std::optional<FinishedJob>> FindFinished(const std::string& id);
  // The newest `limit` finished jobs that carry a result, oldest first.
  proto::StatusOr<std::vector<FinishedJob>> LoadFinished(size_t limit);
  // Deletes finished rows past the limits.
  proto::Status Prune();

 private:
  Journal(core::Database db, JournalLimits limits) : db_(std::move(db)), limits_(limits) {}

  core::Database db_;
  JournalLimits limits_;
  int finishes_since_prune_ = 0;
  core::Statement add_;
  core::Statement finish_;
  core::Statement set_deaths_;
  core::Statement find_finished_;
  core::Statement prune_old_;
  core::Statement prune_excess_;
};

}  // namespace zfactor::broker

#endif  // ZFACTOR_BROKER_JOURNAL_H_
