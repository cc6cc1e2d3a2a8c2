// The gateway's result cache: finished results by (kind, n) with LRU
// eviction, and job records by job id, so answers and `get JOB` survive a
// gateway restart.
//
// Results live in memory (a bounded LRU map, loaded from disk at open):
// lookups never touch the disk. An embedded SQLite database (WAL mode) keeps
// them across restarts, written behind: Store() and eviction only mark
// entries dirty, Flush() hands every dirty entry to a writer thread (the
// gateway flushes every loop turn), and the writer commits what it has been
// handed in one transaction on a connection of its own. So the owner's
// thread never waits for the disk on results, and a crash loses at most
// the groups handed over and not yet committed (milliseconds of them).
// Job records are written on the owner's thread by FlushJobs(), every
// record change since the last call in one transaction (the gateway flushes
// after each batch of broker messages, before it answers the clients those
// records concern).
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

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
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
  // Opens or creates the cache at `path` and loads its results into memory,
  // most recently used first. `max_entries` (>= 1) bounds the results (in
  // memory and on disk alike: about 300 bytes of memory each) and,
  // separately, the finished job records. With `persist_small` false,
  // results for n below 2^64 stay in memory only (recomputing one costs
  // microseconds; writing it costs more). An unreadable or foreign file, or
  // an unknown schema version, is an Error.
  static proto::StatusOr<std::unique_ptr<ResultCache>> Open(const std::string& path,
                                                            uint64_t max_entries,
                                                            bool persist_small = true);
  ~ResultCache();  // syncs (best effort)
  ResultCache(const ResultCache&) = delete;
  ResultCache& operator=(const ResultCache&) = delete;

  // The result for (kind, n), directly or derived from the other kind's
  // entry (see Derive). Counts a hit or a miss and marks the entry used.
  // Memory only.
  proto::StatusOr<std::optional<proto::Result>> Lookup(proto::Kind kind, const std::string& n);

  // Stores a result if Cacheable (otherwise does nothing), replacing any
  // entry for (kind, n), then evicts least-recently-used entries in batches
  // when over max_entries. Memory only: the disk follows at Flush().
  proto::Status Store(proto::Kind kind, const std::string& n, const proto::Result& result);

  // Hands what changed since the last flush to the writer thread: stored and
  // evicted results and, with `touches`, the last-access order of the
  // entries looked up (that only orders eviction after a restart, so the
  // owner may hand it over less often than the results). Returns the error
  // of a write that failed since the last call, if any.
  proto::Status Flush(bool touches = true);
  // Flush(), then waits until the writer has committed everything.
  proto::Status Sync();
  // Stored or evicted results not yet handed to the writer.
  size_t unwritten() const { return dirty_.size(); }

  // Inserts or replaces a job record (written at the next FlushJobs).
  void PutJob(const JobRecord& record);
  // Updates only the state of an open job record (queued <-> running), at
  // the next FlushJobs.
  void SetJobState(const std::string& job, proto::JobState state);
  // Writes the job record changes queued since the last call, in one transaction.
  proto::Status FlushJobs();
  // These two flush first, so they see every change made.
  proto::StatusOr<std::optional<JobRecord>> FindJob(const std::string& job);
  // Every job record not in a final state, oldest first.
  proto::StatusOr<std::vector<JobRecord>> OpenJobs();

  uint64_t entries() const { return hot_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t evictions() const { return evictions_; }
  uint64_t max_entries() const { return max_entries_; }

 private:
  // One cached result; `key` is Key(kind, n).
  struct Entry {
    std::string key;
    proto::Result result;
    int64_t seq = 0;  // last access, the LRU order written to disk
  };
  using Lru = std::list<Entry>;  // most recently used first

  // One row change for the writer: kind and n, and what to write.
  struct RowOp {
    enum class Type { kWrite, kDelete, kTouch } type = Type::kWrite;
    proto::Kind kind = proto::Kind::kFactor;
    std::string n;
    proto::Result result;  // kWrite
    int64_t seq = 0;       // kWrite, kTouch
  };
  // The writer thread: commits the row changes handed to it, on its own connection.
  class Writer {
   public:
    static proto::StatusOr<std::unique_ptr<Writer>> Open(const std::string& path);
    ~Writer();  // commits what it holds, then stops
    void Hand(std::vector<RowOp> ops);
    void Wait();                 // until everything handed over is committed
    proto::Status TakeError();  // the last failed commit's error, once

   private:
    explicit Writer(Database db) : db_(std::move(db)) {}
    void Loop();
    proto::Status Commit(const std::vector<RowOp>& ops);

    Database db_;
    Statement upsert_, delete_, touch_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<RowOp> queue_;
    bool busy_ = false;
    bool stop_ = false;
    std::optional<proto::Error> error_;
    std::thread thread_;
  };

  ResultCache(Database db, uint64_t max_entries, bool persist_small)
      : db_(std::move(db)), max_entries_(max_entries), persist_small_(persist_small) {}
  // Whether the entry under `key` is written to disk.
  bool Persisted(const std::string& key) const;
  proto::Status Init(const std::string& path);
  proto::Status Load();
  static std::string Key(proto::Kind kind, const std::string& n);
  // Inserts or replaces (and marks used) without marking it dirty.
  void Put(const std::string& key, proto::Result result, int64_t seq);
  void Evict();
  proto::Status PruneJobs();
  proto::StatusOr<JobRecord> ReadJob(Statement& stmt);

  Database db_;
  uint64_t max_entries_;
  bool persist_small_;
  int64_t next_seq_ = 1;
  uint64_t final_jobs_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t evictions_ = 0;

  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> hot_;  // key -> its entry in lru_
  // Keys whose row must be written (present in hot_) or deleted (absent).
  std::unordered_map<std::string, bool> dirty_;  // key -> true: write, false: delete
  std::unordered_map<std::string, int64_t> touches_;  // key -> seq, for clean entries used

  std::unique_ptr<Writer> writer_;  // declared after db_: closed first
  // Job record changes not yet written: a whole record, or (state_only) a state.
  struct JobOp {
    bool state_only = false;
    JobRecord record;
    int64_t seq = 0;
  };
  std::vector<JobOp> job_ops_;
  Statement upsert_job_;
  Statement set_job_state_;
  Statement select_job_;
  Statement prune_jobs_;
};

}  // namespace zfactor::cache

#endif  // ZFACTOR_CACHE_RESULT_CACHE_H_
