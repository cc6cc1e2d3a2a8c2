#include "cache/result_cache.h"

#include <algorithm>
#include <iterator>

#include "proto/codec.h"

namespace zfactor::cache {
namespace {

using proto::ErrorCode;
using proto::JobState;
using proto::Kind;
using proto::MakeError;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS results(
  id INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  n TEXT NOT NULL,
  value BLOB NOT NULL,
  seq INTEGER NOT NULL,
  UNIQUE(kind, n));
CREATE INDEX IF NOT EXISTS results_by_seq ON results(seq);
CREATE TABLE IF NOT EXISTS jobs(
  job TEXT PRIMARY KEY,
  kind INTEGER NOT NULL,
  n TEXT NOT NULL,
  state INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  max_seconds REAL,
  outcome BLOB,
  seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
)sql";

bool IsFinalCode(int64_t state) {
  return state == static_cast<int64_t>(JobState::kDone) ||
         state == static_cast<int64_t>(JobState::kFailed) ||
         state == static_cast<int64_t>(JobState::kCancelled);
}

// The stored form of a result: the wire `result` message.
std::string EncodeValue(const std::string& job, Kind kind, const std::string& n, JobState state,
                        const std::optional<proto::Result>& result,
                        const std::optional<proto::Error>& error) {
  proto::Internal m;
  m.type = proto::MsgType::kResult;
  m.job = job;
  m.kind = kind;
  m.n = n;
  m.state = state;
  m.result = result;
  m.error = error;
  return proto::EncodeInternal(m);
}

proto::StatusOr<proto::Internal> DecodeValue(const std::string& bytes) {
  auto m = proto::DecodeInternal(bytes);
  if (!m.ok()) return MakeError(ErrorCode::kInternal, "corrupt cache value: " + m.error().message);
  if (m.value().type != proto::MsgType::kResult) {
    return MakeError(ErrorCode::kInternal, "corrupt cache value: not a result message");
  }
  return m;
}

}  // namespace

bool Cacheable(Kind kind, const proto::Result& result) {
  if (kind == Kind::kIsPrime) return true;
  const std::string& s = result.status;
  return s == "P" || s == "PRP" || s == "FF" || s == "U" || s == "Zero";
}

std::optional<proto::Result> Derive(Kind have, Kind want, const std::string& n,
                                    const proto::Result& result) {
  if (have == want) return result;
  const std::string& s = result.status;
  proto::Result out = result;
  if (want == Kind::kIsPrime) {
    out.factors.clear();
    if (s == "FF" || s == "CF" || s == "C") out.status = "C";
    return out;
  }
  // A factor answer from an isprime result.
  if (s == "P" || s == "PRP") {
    out.factors = {proto::Factor{n, 1, s}};
    return out;
  }
  if (s == "U" || s == "Zero") {
    out.factors.clear();
    return out;
  }
  return std::nullopt;  // composite: the factors are unknown
}

proto::StatusOr<std::unique_ptr<ResultCache>> ResultCache::Open(const std::string& path,
                                                                uint64_t max_entries,
                                                                bool persist_small) {
  if (max_entries == 0) return MakeError(ErrorCode::kBadRequest, "cache max entries must be >= 1");
  auto db = Database::Open(path);
  if (!db.ok()) return db.error();
  std::unique_ptr<ResultCache> cache(
      new ResultCache(std::move(db).value(), max_entries, persist_small));
  proto::Status status = cache->Init(path);
  if (!status.ok()) {
    return MakeError(status.error().code, "cache " + path + ": " + status.error().message);
  }
  return cache;
}

proto::Status ResultCache::Init(const std::string& path) {
  // The first read fails here on a file that is not an SQLite database.
  auto version = db_.QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.error();
  if (version.value() != 0 && version.value() != kSchemaVersion) {
    return MakeError(ErrorCode::kInternal, "schema version " + std::to_string(version.value()) +
                                               " is not supported (this build reads " +
                                               std::to_string(kSchemaVersion) + ")");
  }
  auto mode = db_.QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.error();
  if (mode.value() != "wal") {
    return MakeError(ErrorCode::kInternal, "cannot switch to WAL mode (got " + mode.value() + ")");
  }
  // In WAL mode NORMAL keeps the database consistent across crashes; a power
  // loss may drop the last commits, which a cache can afford.
  proto::Status status = db_.Exec("PRAGMA synchronous=NORMAL");
  if (!status.ok()) return status;
  if (version.value() == 0) {
    status = db_.Exec(std::string("BEGIN IMMEDIATE;") + kSchema +
                      "PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";COMMIT;");
    if (!status.ok()) {
      (void)db_.Exec("ROLLBACK");
      return status;
    }
  }

  struct {
    Statement* stmt;
    const char* sql;
  } const statements[] = {
      {&upsert_job_,
       "INSERT OR REPLACE INTO jobs(job, kind, n, state, priority, max_seconds, outcome, seq) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&set_job_state_, "UPDATE jobs SET state = ?2, seq = ?3 WHERE job = ?1 AND state < 2"},
      {&select_job_,
       "SELECT job, kind, n, state, priority, max_seconds, outcome FROM jobs WHERE job = ?1"},
      {&prune_jobs_,
       "DELETE FROM jobs WHERE job IN (SELECT job FROM jobs WHERE state >= 2 ORDER BY seq "
       "LIMIT ?1)"},
  };
  for (const auto& s : statements) {
    auto prepared = db_.Prepare(s.sql);
    if (!prepared.ok()) return prepared.error();
    *s.stmt = std::move(prepared).value();
  }
  static_assert(static_cast<int>(JobState::kDone) == 2 &&
                    static_cast<int>(JobState::kQueued) == 0 &&
                    static_cast<int>(JobState::kRunning) == 1,
                "the SQL above compares state codes: queued 0, running 1, final >= 2");

  auto finals = db_.QueryInt("SELECT count(*) FROM jobs WHERE state >= 2");
  if (!finals.ok()) return finals.error();
  final_jobs_ = static_cast<uint64_t>(finals.value());
  auto seq = db_.QueryInt(
      "SELECT max(coalesce((SELECT max(seq) FROM results), 0), "
      "coalesce((SELECT max(seq) FROM jobs), 0))");
  if (!seq.ok()) return seq.error();
  next_seq_ = seq.value() + 1;
  auto writer = Writer::Open(path);
  if (!writer.ok()) return writer.error();
  writer_ = std::move(writer).value();
  return Load();
}

// The max_entries most recently used rows, into memory; rows beyond them (the
// bound was lowered since they were written) are deleted.
proto::Status ResultCache::Load() {
  auto rows = db_.Prepare("SELECT kind, n, value, seq FROM results ORDER BY seq DESC");
  if (!rows.ok()) return rows.error();
  Statement& stmt = rows.value();
  uint64_t dropped = 0;
  while (true) {
    auto step = stmt.Step();
    if (!step.ok()) return step.error();
    if (!step.value()) break;
    const int64_t kind = stmt.ColumnInt(0);
    const std::string n = stmt.ColumnText(1);
    if (kind < 0 || kind > 1) return MakeError(ErrorCode::kInternal, "corrupt cache row for " + n);
    const std::string key = Key(static_cast<Kind>(kind), n);
    if (hot_.size() >= max_entries_) {
      dirty_[key] = false;
      ++dropped;
      continue;
    }
    auto value = DecodeValue(stmt.ColumnText(2));
    if (!value.ok()) return value.error();
    if (!value.value().result) return MakeError(ErrorCode::kInternal, "cache row without result");
    // Rows come most recent first: each goes to the back of the LRU list.
    lru_.push_back(Entry{key, std::move(*value.value().result), stmt.ColumnInt(3)});
    hot_[key] = std::prev(lru_.end());
  }
  return dropped > 0 ? Sync() : proto::Status::Ok();
}

bool ResultCache::Persisted(const std::string& key) const {
  if (persist_small_) return true;
  // key = kind digit + canonical decimal n; 2^64 = 18446744073709551616 (20 digits).
  const size_t digits = key.size() - 1;
  return digits > 20 || (digits == 20 && key.compare(1, 20, "18446744073709551616") >= 0);
}

std::string ResultCache::Key(Kind kind, const std::string& n) {
  std::string key(1, static_cast<char>('0' + static_cast<int>(kind)));
  key += n;
  return key;
}

void ResultCache::Put(const std::string& key, proto::Result result, int64_t seq) {
  auto it = hot_.find(key);
  if (it != hot_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    it->second->result = std::move(result);
    it->second->seq = seq;
    return;
  }
  lru_.push_front(Entry{key, std::move(result), seq});
  hot_[key] = lru_.begin();
}

ResultCache::~ResultCache() {
  (void)FlushJobs();
  (void)Sync();
}

proto::Status ResultCache::Flush(bool touches) {
  std::vector<RowOp> ops;
  ops.reserve(dirty_.size() + (touches ? touches_.size() : 0));
  for (const auto& [key, write] : dirty_) {
    RowOp op;
    op.kind = static_cast<Kind>(key[0] - '0');
    op.n = key.substr(1);
    if (write) {
      const Entry& e = *hot_.at(key);
      op.result = e.result;
      op.seq = e.seq;
    } else {
      op.type = RowOp::Type::kDelete;
    }
    ops.push_back(std::move(op));
  }
  dirty_.clear();
  if (touches) {
    for (const auto& [key, seq] : touches_) {
      RowOp op;
      op.type = RowOp::Type::kTouch;
      op.kind = static_cast<Kind>(key[0] - '0');
      op.n = key.substr(1);
      op.seq = seq;
      ops.push_back(std::move(op));
    }
    touches_.clear();
  }
  if (!ops.empty()) writer_->Hand(std::move(ops));
  return writer_->TakeError();
}

proto::Status ResultCache::Sync() {
  if (!writer_) return proto::Status::Ok();
  proto::Status status = Flush();
  writer_->Wait();
  proto::Status written = writer_->TakeError();
  return status.ok() ? written : status;
}

// ------------------------------------------------------------------ Writer

proto::StatusOr<std::unique_ptr<ResultCache::Writer>> ResultCache::Writer::Open(
    const std::string& path) {
  auto db = Database::Open(path);
  if (!db.ok()) return db.error();
  std::unique_ptr<Writer> w(new Writer(std::move(db).value()));
  proto::Status status = w->db_.Exec("PRAGMA synchronous=NORMAL");
  if (!status.ok()) return status.error();
  struct {
    Statement* stmt;
    const char* sql;
  } const statements[] = {
      {&w->upsert_,
       "INSERT INTO results(kind, n, value, seq) VALUES(?1, ?2, ?3, ?4) "
       "ON CONFLICT(kind, n) DO UPDATE SET value = excluded.value, seq = excluded.seq"},
      {&w->delete_, "DELETE FROM results WHERE kind = ?1 AND n = ?2"},
      {&w->touch_, "UPDATE results SET seq = ?3 WHERE kind = ?1 AND n = ?2"},
  };
  for (const auto& s : statements) {
    auto prepared = w->db_.Prepare(s.sql);
    if (!prepared.ok()) return prepared.error();
    *s.stmt = std::move(prepared).value();
  }
  w->thread_ = std::thread([raw = w.get()] { raw->Loop(); });
  return w;
}

ResultCache::Writer::~Writer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ResultCache::Writer::Hand(std::vector<RowOp> ops) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) {
      queue_ = std::move(ops);
    } else {
      queue_.insert(queue_.end(), std::make_move_iterator(ops.begin()),
                    std::make_move_iterator(ops.end()));
    }
  }
  cv_.notify_all();
}

void ResultCache::Writer::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

proto::Status ResultCache::Writer::TakeError() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_) return proto::Status::Ok();
  proto::Error e = std::move(*error_);
  error_.reset();
  return e;
}

// Everything handed over while the last commit ran goes into the next one.
void ResultCache::Writer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to write
    std::vector<RowOp> ops;
    ops.swap(queue_);
    busy_ = true;
    lock.unlock();
    proto::Status status = Commit(ops);
    lock.lock();
    busy_ = false;
    if (!status.ok()) error_ = status.error();
    cv_.notify_all();
  }
}

proto::Status ResultCache::Writer::Commit(const std::vector<RowOp>& ops) {
  proto::Status status = db_.Exec("BEGIN");
  if (!status.ok()) return status;
  for (const RowOp& op : ops) {
    const auto kind = static_cast<int64_t>(op.kind);
    switch (op.type) {
      case RowOp::Type::kWrite:
        status = upsert_.Bind(1, kind)
                     .Bind(2, op.n)
                     .BindBlob(3, EncodeValue("", op.kind, op.n, JobState::kDone, op.result,
                                              std::nullopt))
                     .Bind(4, op.seq)
                     .Run();
        break;
      case RowOp::Type::kDelete:
        status = delete_.Bind(1, kind).Bind(2, op.n).Run();
        break;
      case RowOp::Type::kTouch:
        status = touch_.Bind(1, kind).Bind(2, op.n).Bind(3, op.seq).Run();
        break;
    }
    if (!status.ok()) break;
  }
  if (status.ok()) status = db_.Exec("COMMIT");
  if (!status.ok()) (void)db_.Exec("ROLLBACK");
  return status;
}

proto::StatusOr<std::optional<proto::Result>> ResultCache::Lookup(Kind kind, const std::string& n) {
  const Kind other = kind == Kind::kFactor ? Kind::kIsPrime : Kind::kFactor;
  for (Kind have : {kind, other}) {
    const std::string key = Key(have, n);
    auto it = hot_.find(key);
    if (it == hot_.end()) continue;
    std::optional<proto::Result> derived = Derive(have, kind, n, it->second->result);
    if (!derived) continue;
    lru_.splice(lru_.begin(), lru_, it->second);
    it->second->seq = next_seq_++;
    // A dirty entry is written whole, with its new seq; a clean one needs only the seq.
    if (!dirty_.count(key) && Persisted(key)) touches_[key] = it->second->seq;
    ++hits_;
    return derived;
  }
  ++misses_;
  return std::optional<proto::Result>();
}

proto::Status ResultCache::Store(Kind kind, const std::string& n, const proto::Result& result) {
  if (!Cacheable(kind, result)) return proto::Status::Ok();
  const std::string key = Key(kind, n);
  Put(key, result, next_seq_++);
  if (Persisted(key)) {
    dirty_[key] = true;
    touches_.erase(key);
  }
  if (hot_.size() > max_entries_) Evict();
  return proto::Status::Ok();
}

void ResultCache::Evict() {
  // Evict down to max - slack (1/64 of the bound) so eviction runs once per
  // many inserts rather than on every one.
  const uint64_t slack = max_entries_ / 64;
  while (hot_.size() > max_entries_ - slack && !lru_.empty()) {
    const std::string key = std::move(lru_.back().key);
    lru_.pop_back();
    hot_.erase(key);
    touches_.erase(key);
    if (Persisted(key)) dirty_[key] = false;
    ++evictions_;
  }
}

void ResultCache::PutJob(const JobRecord& r) {
  job_ops_.push_back(JobOp{false, r, next_seq_++});
}

void ResultCache::SetJobState(const std::string& job, JobState state) {
  JobRecord r;
  r.job = job;
  r.state = state;
  job_ops_.push_back(JobOp{true, std::move(r), next_seq_++});
}

proto::Status ResultCache::FlushJobs() {
  if (job_ops_.empty()) return proto::Status::Ok();
  std::vector<JobOp> ops;
  ops.swap(job_ops_);
  proto::Status status = db_.Exec("BEGIN");
  if (!status.ok()) return status;
  uint64_t finals = 0;
  for (const JobOp& op : ops) {
    const JobRecord& r = op.record;
    if (op.state_only) {
      status = set_job_state_.Bind(1, r.job)
                   .Bind(2, static_cast<int64_t>(r.state))
                   .Bind(3, op.seq)
                   .Run();
      if (!status.ok()) break;
      continue;
    }
    const bool final_state = proto::IsFinal(r.state);
    upsert_job_.Bind(1, r.job)
        .Bind(2, static_cast<int64_t>(r.kind))
        .Bind(3, r.n)
        .Bind(4, static_cast<int64_t>(r.state))
        .Bind(5, static_cast<int64_t>(r.priority));
    if (r.max_seconds) {
      upsert_job_.Bind(6, *r.max_seconds);
    } else {
      upsert_job_.BindNull(6);
    }
    if (final_state) {
      upsert_job_.BindBlob(7, EncodeValue(r.job, r.kind, r.n, r.state, r.result, r.error));
    } else {
      upsert_job_.BindNull(7);
    }
    upsert_job_.Bind(8, op.seq);
    status = upsert_job_.Run();
    if (!status.ok()) break;
    finals += final_state;
  }
  if (status.ok()) status = db_.Exec("COMMIT");
  if (!status.ok()) {
    (void)db_.Exec("ROLLBACK");
    return status;
  }
  final_jobs_ += finals;
  if (final_jobs_ > max_entries_) return PruneJobs();
  return proto::Status::Ok();
}

proto::Status ResultCache::PruneJobs() {
  // The count is approximate (a replaced final record counted twice), so
  // recount after pruning.
  const uint64_t slack = max_entries_ / 64;
  proto::Status status =
      prune_jobs_.Bind(1, static_cast<int64_t>(final_jobs_ - max_entries_ + slack)).Run();
  if (!status.ok()) return status;
  auto finals = db_.QueryInt("SELECT count(*) FROM jobs WHERE state >= 2");
  if (!finals.ok()) return finals.error();
  final_jobs_ = static_cast<uint64_t>(finals.value());
  return proto::Status::Ok();
}

proto::StatusOr<JobRecord> ResultCache::ReadJob(Statement& stmt) {
  JobRecord r;
  r.job = stmt.ColumnText(0);
  const int64_t kind = stmt.ColumnInt(1);
  const int64_t state = stmt.ColumnInt(3);
  if (kind < 0 || kind > 1 || state < 0 || state > 4) {
    return MakeError(ErrorCode::kInternal, "corrupt job record " + r.job);
  }
  r.kind = static_cast<Kind>(kind);
  r.n = stmt.ColumnText(2);
  r.state = static_cast<JobState>(state);
  r.priority = static_cast<int>(stmt.ColumnInt(4));
  if (!stmt.ColumnIsNull(5)) r.max_seconds = stmt.ColumnDouble(5);
  if (IsFinalCode(state)) {
    auto outcome = DecodeValue(stmt.ColumnText(6));
    if (!outcome.ok()) return outcome.error();
    r.result = outcome.value().result;
    r.error = outcome.value().error;
  }
  return r;
}

proto::StatusOr<std::optional<JobRecord>> ResultCache::FindJob(const std::string& job) {
  proto::Status flushed = FlushJobs();
  if (!flushed.ok()) return flushed.error();
  select_job_.Bind(1, job);
  auto step = select_job_.Step();
  if (!step.ok()) {
    select_job_.Reset();
    return step.error();
  }
  if (!step.value()) {
    select_job_.Reset();
    return std::optional<JobRecord>();
  }
  auto record = ReadJob(select_job_);
  select_job_.Reset();
  if (!record.ok()) return record.error();
  return std::optional<JobRecord>(std::move(record).value());
}

proto::StatusOr<std::vector<JobRecord>> ResultCache::OpenJobs() {
  proto::Status flushed = FlushJobs();
  if (!flushed.ok()) return flushed.error();
  auto stmt = db_.Prepare(
      "SELECT job, kind, n, state, priority, max_seconds, outcome FROM jobs WHERE state < 2 "
      "ORDER BY seq");
  if (!stmt.ok()) return stmt.error();
  std::vector<JobRecord> out;
  while (true) {
    auto step = stmt.value().Step();
    if (!step.ok()) return step.error();
    if (!step.value()) break;
    auto record = ReadJob(stmt.value());
    if (!record.ok()) return record.error();
    out.push_back(std::move(record).value());
  }
  return out;
}

}  // namespace zfactor::cache
