#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "cache/result_cache.h"

namespace zfactor::cache {
namespace {

using proto::Factor;
using proto::JobState;
using proto::Kind;
using proto::Result;

// A fresh database path under the test's temporary directory, removed
// (with its WAL files) at the end.
class TempPath {
 public:
  TempPath() {
    static int counter = 0;
    path_ = ::testing::TempDir() + "zf_cache_test_" + std::to_string(getpid()) + "_" +
            std::to_string(counter++) + ".db";
    Remove();
  }
  ~TempPath() { Remove(); }
  const std::string& path() const { return path_; }

 private:
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  }
  std::string path_;
};

Result FactorResult12() {
  Result r;
  r.status = "FF";
  r.factors = {Factor{"2", 2, "P"}, Factor{"3", 1, "P"}};
  r.effort = "trial";
  r.ms = 0.5;
  return r;
}

Result Status(const std::string& status) {
  Result r;
  r.status = status;
  r.effort = "bpsw";
  return r;
}

std::unique_ptr<ResultCache> OpenOrDie(const std::string& path, uint64_t max_entries = 100) {
  auto cache = ResultCache::Open(path, max_entries);
  EXPECT_TRUE(cache.ok()) << (cache.ok() ? "" : cache.error().message);
  return cache.ok() ? std::move(cache).value() : nullptr;
}

std::optional<Result> Get(ResultCache& cache, Kind kind, const std::string& n) {
  auto r = cache.Lookup(kind, n);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : std::nullopt;
}

TEST(CacheTest, PutThenGetCountsHitsAndMisses) {
  TempPath tmp;
  auto cache = OpenOrDie(tmp.path());
  ASSERT_NE(cache, nullptr);
  EXPECT_FALSE(Get(*cache, Kind::kFactor, "12"));
  ASSERT_TRUE(cache->Store(Kind::kFactor, "12", FactorResult12()).ok());
  auto got = Get(*cache, Kind::kFactor, "12");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, FactorResult12());
  EXPECT_EQ(cache->hits(), 1u);
  EXPECT_EQ(cache->misses(), 1u);
  EXPECT_EQ(cache->entries(), 1u);
  // Replacing an entry does not add one.
  ASSERT_TRUE(cache->Store(Kind::kFactor, "12", FactorResult12()).ok());
  EXPECT_EQ(cache->entries(), 1u);
}

TEST(CacheTest, FactorResultAnswersIsPrime) {
  TempPath tmp;
  auto cache = OpenOrDie(tmp.path());
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Store(Kind::kFactor, "12", FactorResult12()).ok());
  auto got = Get(*cache, Kind::kIsPrime, "12");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, "C");
  EXPECT_TRUE(got->factors.empty());

  Result prime;
  prime.status = "P";
  prime.factors = {Factor{"97", 1, "P"}};
  ASSERT_TRUE(cache->Store(Kind::kFactor, "97", prime).ok());
  got = Get(*cache, Kind::kIsPrime, "97");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, "P");
  EXPECT_TRUE(got->factors.empty());
}

TEST(CacheTest, IsPrimeResultAnswersFactorOnlyWhenPrime) {
  TempPath tmp;
  auto cache = OpenOrDie(tmp.path());
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Store(Kind::kIsPrime, "101", Status("PRP")).ok());
  ASSERT_TRUE(cache->Store(Kind::kIsPrime, "100", Status("C")).ok());
  auto got = Get(*cache, Kind::kFactor, "101");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, "PRP");
  ASSERT_EQ(got->factors.size(), 1u);
  EXPECT_EQ(got->factors[0], (Factor{"101", 1, "PRP"}));
  EXPECT_FALSE(Get(*cache, Kind::kFactor, "100"));
  EXPECT_TRUE(Get(*cache, Kind::kIsPrime, "100"));
}

TEST(CacheTest, PartialFactorResultsAreNotCached) {
  TempPath tmp;
  auto cache = OpenOrDie(tmp.path());
  ASSERT_NE(cache, nullptr);
  Result partial;
  partial.status = "CF";
  partial.factors = {Factor{"3", 1, "P"}, Factor{"35", 1, "C"}};
  ASSERT_TRUE(cache->Store(Kind::kFactor, "105", partial).ok());
  ASSERT_TRUE(cache->Store(Kind::kFactor, "91", Status("C")).ok());
  EXPECT_EQ(cache->entries(), 0u);
  EXPECT_FALSE(Get(*cache, Kind::kFactor, "105"));
  // An isprime "C" is final and is cached.
  ASSERT_TRUE(cache->Store(Kind::kIsPrime, "91", Status("C")).ok());
  EXPECT_EQ(cache->entries(), 1u);
}

TEST(CacheTest, SurvivesReopen) {
  TempPath tmp;
  {
    auto cache = OpenOrDie(tmp.path());
    ASSERT_NE(cache, nullptr);
    ASSERT_TRUE(cache->Store(Kind::kFactor, "12", FactorResult12()).ok());
  }
  auto cache = OpenOrDie(tmp.path());
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->entries(), 1u);
  auto got = Get(*cache, Kind::kFactor, "12");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, FactorResult12());
}

// Writes are grouped: Store() only changes memory, Flush() hands the group to
// the writer thread and Sync() waits for its commit. A process that dies (no
// destructor) loses the stores after its last commit and nothing before it.
TEST(CacheTest, ACrashLosesOnlyTheUnflushedGroup) {
  TempPath tmp;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto cache = ResultCache::Open(tmp.path(), 100);
    if (!cache.ok()) _exit(1);
    if (!cache.value()->Store(Kind::kFactor, "12", FactorResult12()).ok()) _exit(2);
    if (cache.value()->unwritten() != 1 || !cache.value()->Sync().ok()) _exit(3);
    if (cache.value()->unwritten() != 0) _exit(4);
    if (!cache.value()->Store(Kind::kIsPrime, "97", Status("P")).ok()) _exit(5);
    _exit(0);  // as SIGKILL would: no destructor, no flush
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto cache = OpenOrDie(tmp.path());
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->entries(), 1u);
  EXPECT_TRUE(Get(*cache, Kind::kFactor, "12"));
  EXPECT_FALSE(Get(*cache, Kind::kIsPrime, "97"));
}

// Evictions reach the disk too: a reopened cache holds what memory held.
TEST(CacheTest, EvictionsAreWrittenAndALowerBoundTrimsAtOpen) {
  TempPath tmp;
  {
    auto cache = OpenOrDie(tmp.path(), 3);
    ASSERT_NE(cache, nullptr);
    for (const char* n : {"2", "3", "5", "7"})
      ASSERT_TRUE(cache->Store(Kind::kIsPrime, n, Status("P")).ok());
    ASSERT_TRUE(cache->Sync().ok());
  }
  {
    auto cache = OpenOrDie(tmp.path(), 3);
    ASSERT_NE(cache, nullptr);
    EXPECT_EQ(cache->entries(), 3u);
    EXPECT_FALSE(Get(*cache, Kind::kIsPrime, "2"));
  }
  auto cache = OpenOrDie(tmp.path(), 2);  // the bound lowered: the oldest row goes
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->entries(), 2u);
  EXPECT_FALSE(Get(*cache, Kind::kIsPrime, "3"));
  EXPECT_TRUE(Get(*cache, Kind::kIsPrime, "5"));
  EXPECT_TRUE(Get(*cache, Kind::kIsPrime, "7"));
}

// The gateway's setting: answers below 2^64 are served from memory but never
// written; from 2^64 up they are.
TEST(CacheTest, SmallResultsCanStayInMemoryOnly) {
  TempPath tmp;
  const std::string below = "18446744073709551615", at = "18446744073709551616";
  {
    auto cache = ResultCache::Open(tmp.path(), 100, /*persist_small=*/false);
    ASSERT_TRUE(cache.ok()) << cache.error().message;
    ASSERT_TRUE(cache.value()->Store(Kind::kIsPrime, below, Status("C")).ok());
    ASSERT_TRUE(cache.value()->Store(Kind::kIsPrime, at, Status("C")).ok());
    EXPECT_EQ(cache.value()->unwritten(), 1u);
    EXPECT_TRUE(Get(*cache.value(), Kind::kIsPrime, below));
    EXPECT_EQ(cache.value()->entries(), 2u);
  }
  auto cache = OpenOrDie(tmp.path());
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->entries(), 1u);
  EXPECT_FALSE(Get(*cache, Kind::kIsPrime, below));
  EXPECT_TRUE(Get(*cache, Kind::kIsPrime, at));
}

TEST(CacheTest, EvictsLeastRecentlyUsed) {
  TempPath tmp;
  auto cache = OpenOrDie(tmp.path(), 3);
  ASSERT_NE(cache, nullptr);
  for (const char* n : {"2", "3", "5"})
    ASSERT_TRUE(cache->Store(Kind::kIsPrime, n, Status("P")).ok());
  ASSERT_TRUE(Get(*cache, Kind::kIsPrime, "2"));  // 3 is now the least recently used
  ASSERT_TRUE(cache->Store(Kind::kIsPrime, "7", Status("P")).ok());
  EXPECT_EQ(cache->entries(), 3u);
  EXPECT_EQ(cache->evictions(), 1u);
  EXPECT_FALSE(Get(*cache, Kind::kIsPrime, "3"));
  for (const char* n : {"2", "5", "7"}) EXPECT_TRUE(Get(*cache, Kind::kIsPrime, n)) << n;
}

TEST(CacheTest, EvictionOrderSurvivesReopen) {
  TempPath tmp;
  {
    auto cache = OpenOrDie(tmp.path(), 2);
    ASSERT_NE(cache, nullptr);
    ASSERT_TRUE(cache->Store(Kind::kIsPrime, "2", Status("P")).ok());
    ASSERT_TRUE(cache->Store(Kind::kIsPrime, "3", Status("P")).ok());
    ASSERT_TRUE(Get(*cache, Kind::kIsPrime, "2"));
  }
  auto cache = OpenOrDie(tmp.path(), 2);
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Store(Kind::kIsPrime, "5", Status("P")).ok());
  EXPECT_FALSE(Get(*cache, Kind::kIsPrime, "3"));
  EXPECT_TRUE(Get(*cache, Kind::kIsPrime, "2"));
  EXPECT_TRUE(Get(*cache, Kind::kIsPrime, "5"));
}

TEST(CacheTest, EvictsInBatches) {
  TempPath tmp;
  auto cache = OpenOrDie(tmp.path(), 128);  // slack 128/64 = 2
  ASSERT_NE(cache, nullptr);
  for (int i = 0; i < 129; ++i) {
    ASSERT_TRUE(cache->Store(Kind::kIsPrime, std::to_string(1000 + i), Status("C")).ok());
  }
  EXPECT_EQ(cache->entries(), 126u);
  EXPECT_EQ(cache->evictions(), 3u);
  EXPECT_FALSE(Get(*cache, Kind::kIsPrime, "1000"));
  EXPECT_FALSE(Get(*cache, Kind::kIsPrime, "1002"));
  EXPECT_TRUE(Get(*cache, Kind::kIsPrime, "1003"));
}

TEST(CacheTest, JobRecordsRoundTripAndSurviveReopen) {
  TempPath tmp;
  JobRecord open;
  open.job = "j-0123456789abcdef";
  open.kind = Kind::kFactor;
  open.n = "340282366920938463463374607431768211457";
  open.priority = 7;
  open.max_seconds = 2.5;
  JobRecord done = open;
  done.job = "j-fedcba9876543210";
  done.state = JobState::kDone;
  done.result = FactorResult12();
  JobRecord failed = open;
  failed.job = "j-failed";
  failed.state = JobState::kFailed;
  failed.error = proto::MakeError(proto::ErrorCode::kInternal, "worker_lost");
  {
    auto cache = OpenOrDie(tmp.path());
    ASSERT_NE(cache, nullptr);
    cache->PutJob(open);
    cache->PutJob(done);
    cache->PutJob(failed);
    cache->SetJobState(open.job, JobState::kRunning);
    // A final record's state is not changed by a late state message.
    cache->SetJobState(done.job, JobState::kRunning);
    ASSERT_TRUE(cache->FlushJobs().ok());
  }
  auto cache = OpenOrDie(tmp.path());
  ASSERT_NE(cache, nullptr);
  auto got = cache->FindJob(open.job);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got.value());
  EXPECT_EQ(got.value()->state, JobState::kRunning);
  EXPECT_EQ(got.value()->n, open.n);
  EXPECT_EQ(got.value()->priority, 7);
  EXPECT_EQ(got.value()->max_seconds, 2.5);
  EXPECT_FALSE(got.value()->result);

  got = cache->FindJob(done.job);
  ASSERT_TRUE(got.ok() && got.value());
  EXPECT_EQ(got.value()->state, JobState::kDone);
  ASSERT_TRUE(got.value()->result);
  EXPECT_EQ(*got.value()->result, FactorResult12());

  got = cache->FindJob(failed.job);
  ASSERT_TRUE(got.ok() && got.value());
  EXPECT_EQ(got.value()->state, JobState::kFailed);
  ASSERT_TRUE(got.value()->error);
  EXPECT_EQ(got.value()->error->message, "worker_lost");

  got = cache->FindJob("j-nope");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got.value());

  auto open_jobs = cache->OpenJobs();
  ASSERT_TRUE(open_jobs.ok());
  ASSERT_EQ(open_jobs.value().size(), 1u);
  EXPECT_EQ(open_jobs.value()[0].job, open.job);
}

TEST(CacheTest, FinalJobRecordsAreBounded) {
  TempPath tmp;
  auto cache = OpenOrDie(tmp.path(), 2);
  ASSERT_NE(cache, nullptr);
  JobRecord open;
  open.job = "j-open";
  open.n = "15";
  cache->PutJob(open);
  for (int i = 0; i < 3; ++i) {
    JobRecord r;
    r.job = "j-" + std::to_string(i);
    r.n = "15";
    r.state = JobState::kCancelled;
    cache->PutJob(r);
  }
  auto oldest = cache->FindJob("j-0");
  ASSERT_TRUE(oldest.ok());
  EXPECT_FALSE(oldest.value());
  for (const char* job : {"j-open", "j-1", "j-2"}) {
    auto r = cache->FindJob(job);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value()) << job;
  }
}

TEST(CacheTest, ForeignFileIsAClearError) {
  TempPath tmp;
  {
    std::ofstream out(tmp.path(), std::ios::binary);
    out << std::string(8192, 'x');
  }
  auto cache = ResultCache::Open(tmp.path(), 10);
  ASSERT_FALSE(cache.ok());
  EXPECT_NE(cache.error().message.find("not a database"), std::string::npos)
      << cache.error().message;
}

TEST(CacheTest, UnknownSchemaVersionIsAnError) {
  TempPath tmp;
  {
    auto db = Database::Open(tmp.path());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db.value().Exec("PRAGMA user_version=99").ok());
  }
  auto cache = ResultCache::Open(tmp.path(), 10);
  ASSERT_FALSE(cache.ok());
  EXPECT_NE(cache.error().message.find("schema version 99"), std::string::npos)
      << cache.error().message;
}

TEST(CacheTest, UnopenablePathIsAnError) {
  auto cache = ResultCache::Open("/nonexistent-dir/zf/cache.db", 10);
  ASSERT_FALSE(cache.ok());
  EXPECT_NE(cache.error().message.find("/nonexistent-dir/zf/cache.db"), std::string::npos);
}

TEST(CacheTest, DeriveRules) {
  EXPECT_EQ(Derive(Kind::kFactor, Kind::kIsPrime, "12", FactorResult12())->status, "C");
  EXPECT_EQ(Derive(Kind::kFactor, Kind::kIsPrime, "1", Status("U"))->status, "U");
  EXPECT_EQ(Derive(Kind::kIsPrime, Kind::kFactor, "0", Status("Zero"))->status, "Zero");
  EXPECT_FALSE(Derive(Kind::kIsPrime, Kind::kFactor, "12", Status("C")));
  Result cf;
  cf.status = "CF";
  cf.factors = {Factor{"3", 1, "P"}, Factor{"35", 1, "C"}};
  EXPECT_EQ(Derive(Kind::kFactor, Kind::kIsPrime, "105", cf)->status, "C");
}

}  // namespace
}  // namespace zfactor::cache
