// The gateway's result cache: an embedded SQLite database (WAL mode) holding
// finished results by (kind, n) with LRU eviction, and job records by job id,
// so answers and `get JOB` survive a gateway restart.
//
// Values are stored in the wire encoding (proto::EncodeInternal of a
// `result` message), so there is one format for a Result everywhere.
//
// On-disk schema (PRAGMA user_version = kSchemaVersion):
//   results(id INTEGER PRIMARY KEY, kind INT, n TEXT, value BLOB, seq INT)
//     UNIQUE(kind, n); INDEX(seq)   -- seq: last access, for LRU eviction
//   jobs(job TEXT PRIMARY KEY, kind INT, n TEXT, state INT, priority INT,
//        max_seconds REAL NULL, outcome BLOB NULL, seq INT)
//     INDEX(state, seq)             -- outcome: the final `result` message
#ifndef ZFACTOR_CACHE_RESULT_CACHE_H_
#define ZFACTOR_CACHE_RESULT_CACHE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/sqlite.h"
#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::cache {

using core::Database;
using core::Statement;

inline constexpr int kSchemaVersion = 1;
// Lookups flush their last-access updates at the latest after this many hits.
inline constexpr size_t kMaxPendingTouches = 4096;

// What the cache remembers of one job.
struct JobRecord {
  std::string job;
  proto::Kind kind = proto::Kind::kFactor;
  std::string n;
  proto::JobState state = proto::JobState::kQueued;
  int priority = 5;
  std::optional<double> max_seconds;
  std::optional<proto::Result> result;  // when state is done
  std::optional<proto::Error> error;    // when state is failed
};

// True when `result` is final for `kind` and worth keeping: every isprime
// result; factor results that are complete (P, PRP, FF, U, Zero). A CF or C
// factor result (budget ran out, or cancelled) is not cached, so a later
// request can try harder.
bool Cacheable(proto::Kind kind, const proto::Result& result);

// Answers `want` for n from a result stored under `have`, or nullopt when
// it cannot: an isprime answer from a factor result (P/PRP/U/Zero stay,
// FF/CF/C become C, no factors); a factor answer from an isprime result only
// when it is P/PRP (factors [n]) or U/Zero.
std::optional<proto::Result> Derive(proto::Kind have, proto::Kind want, const std::string& n,
                                    const proto::Result& result);

class ResultCache {
 public:
  // Opens or creates the cache at `path`. `max_entries` (>= 1) bounds the
  // results table and, separately, the finished job records. An unreadable
  // or foreign file, or an unknown schema version, is an Error.
  static proto::StatusOr<std::unique_ptr<ResultCache>> Open(const std::string& path,
                                                            uint64_t max_entries);
  ~ResultCache();  // flushes pending last-access updates (best effort)
  ResultCache(const ResultCache&) = delete;
  ResultCache& operator=(const ResultCache&) = delete;

  // The result for (kind, n), directly or derived from the other kind's
  // entry (see Derive). Counts a hit or a miss and marks the entry used.
  proto::StatusOr<std::optional<proto::Result>> Lookup(proto::Kind kind, const std::string& n);

  // Stores a result if Cacheable (otherwise does nothing), replacing any
  // entry for (kind, n), then evicts least-recently-used entries in batches
  // when over max_entries.
  proto::Status Store(proto::Kind kind, const std::string& n, const proto::Result& result);

  // Writes the pending last-access updates of Lookup() in one transaction.
  // Lookups only record them in memory (a write per hit would bound the hit
  // rate by commit latency); eviction and the destructor flush first, and the
  // owner should call this now and then (the gateway does every loop turn).
  // Losing them in a crash only perturbs the eviction order.
  proto::Status Flush();

  // Inserts or replaces a job record.
  proto::Status PutJob(const JobRecord& record);
  // Updates only the state of an open job record (queued <-> running).
  proto::Status SetJobState(const std::string& job, proto::JobState state);
  proto::StatusOr<std::optional<JobRecord>> FindJob(const std::string& job);
  // Every job record not in a final state, oldest first.
  proto::StatusOr<std::vector<JobRecord>> OpenJobs();

  uint64_t entries() const { return entries_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t evictions() const { return evictions_; }
  uint64_t max_entries() const { return max_entries_; }

 private:
  ResultCache(Database db, uint64_t max_entries) : db_(std::move(db)), max_entries_(max_entries) {}
  proto::Status Init();
  proto::StatusOr<std::optional<proto::Result>> Read(proto::Kind kind, const std::string& n,
                                                     int64_t* row);
  void Touch(int64_t row) { touches_[row] = next_seq_++; }
  proto::Status WriteTouches();  // inside a transaction the caller opened
  proto::Status Evict();
  proto::Status PruneJobs();
  proto::StatusOr<JobRecord> ReadJob(Statement& stmt);

  Database db_;
  uint64_t max_entries_;
  int64_t next_seq_ = 1;
  uint64_t entries_ = 0;
  uint64_t final_jobs_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t evictions_ = 0;
  std::unordered_map<int64_t, int64_t> touches_;  // results row -> new seq, not yet written

  Statement select_result_;
  Statement touch_result_;
  Statement insert_result_;
  Statement update_result_;
  Statement evict_results_;
  Statement upsert_job_;
  Statement set_job_state_;
  Statement select_job_;
  Statement prune_jobs_;
};

}  // namespace zfactor::cache

#endif  // ZFACTOR_CACHE_RESULT_CACHE_H_
