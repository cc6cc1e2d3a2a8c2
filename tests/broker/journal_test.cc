#include "broker/journal.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace zfactor::broker {
namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/zfactor-journal-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/journal.db";
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
    rmdir(dir_.c_str());
  }
  std::unique_ptr<Journal> Open() {
    auto j = Journal::Open(path_);
    EXPECT_TRUE(j.ok()) << j.error().message;
    return j.ok() ? std::move(j).value() : nullptr;
  }
  int64_t CountRows() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM jobs", -1, &s, nullptr);
    sqlite3_step(s);
    const int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }
  void Exec(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }

  std::string dir_, path_;
};

TEST_F(JournalTest, OpenJobsSurviveReopenAndFinishedOnesDoNot) {
  {
    auto j = Open();
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->Add({"a", proto::Kind::kFactor, "1001", 3, 2.5, 0}).ok());
    ASSERT_TRUE(j->Add({"b", proto::Kind::kIsPrime, "97", 9, std::nullopt, 0}).ok());
    ASSERT_TRUE(j->Add({"c", proto::Kind::kFactor, "15", 5, std::nullopt, 0}).ok());
    ASSERT_TRUE(
        j->Add({"a", proto::Kind::kFactor, "9999", 1, std::nullopt, 0}).ok());  // open: no-op
    ASSERT_TRUE(j->SetDeaths("b", 2).ok());
    ASSERT_TRUE(j->Finish("c", proto::JobState::kDone, "result-c").ok());
  }
  auto j = Open();
  ASSERT_TRUE(j);
  auto open = j->LoadOpen();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open.value().size(), 2u);
  const JournalJob& a = open.value()[0];
  EXPECT_EQ(a.id, "a");
  EXPECT_EQ(a.n, "1001");
  EXPECT_EQ(a.priority, 3);
  ASSERT_TRUE(a.max_seconds);
  EXPECT_EQ(*a.max_seconds, 2.5);
  const JournalJob& b = open.value()[1];
  EXPECT_EQ(b.id, "b");
  EXPECT_EQ(b.kind, proto::Kind::kIsPrime);
  EXPECT_FALSE(b.max_seconds);
  EXPECT_EQ(b.deaths, 2);

  // A finished id submitted again is a new open job.
  ASSERT_TRUE(j->Add({"c", proto::Kind::kFactor, "21", 5, std::nullopt, 0}).ok());
  open = j->LoadOpen();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open.value().size(), 3u);
  EXPECT_EQ(open.value()[2].n, "21");
}

TEST_F(JournalTest, OldFinishedRowsArePrunedOnOpen) {
  {
    auto j = Open();
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->Add({"old", proto::Kind::kFactor, "15", 5, std::nullopt, 0}).ok());
    ASSERT_TRUE(j->Add({"recent", proto::Kind::kFactor, "21", 5, std::nullopt, 0}).ok());
    ASSERT_TRUE(j->Add({"open", proto::Kind::kFactor, "35", 5, std::nullopt, 0}).ok());
    ASSERT_TRUE(j->Finish("old", proto::JobState::kDone, "r-old").ok());
    ASSERT_TRUE(j->Finish("recent", proto::JobState::kCancelled, "r-recent").ok());
  }
  Exec("UPDATE jobs SET finished_unix_ms = 1000 WHERE id = 'old'");
  EXPECT_EQ(CountRows(), 3);
  auto j = Open();
  ASSERT_TRUE(j);
  EXPECT_EQ(CountRows(), 2);
}

TEST_F(JournalTest, FinishedResultsAreKeptAndFoundById) {
  auto j = Open();
  ASSERT_TRUE(j);
  for (const char* id : {"x", "y", "z"}) {
    ASSERT_TRUE(j->Add({id, proto::Kind::kFactor, "77", 5, std::nullopt, 0}).ok());
  }
  ASSERT_TRUE(j->Finish("x", proto::JobState::kDone, std::string("body\0x", 6)).ok());
  ASSERT_TRUE(j->Finish("y", proto::JobState::kFailed, "body-y").ok());
  auto x = j->FindFinished("x");
  ASSERT_TRUE(x.ok());
  ASSERT_TRUE(x.value());
  EXPECT_EQ(x.value()->result, std::string("body\0x", 6)) << "blobs keep their bytes";
  EXPECT_EQ(x.value()->n, "77");
  auto z = j->FindFinished("z");
  ASSERT_TRUE(z.ok());
  EXPECT_FALSE(z.value()) << "open jobs have no result";
  auto none = j->FindFinished("nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value());
  auto finished = j->LoadFinished(10);
  ASSERT_TRUE(finished.ok());
  ASSERT_EQ(finished.value().size(), 2u);
  EXPECT_EQ(finished.value()[0].id, "x");  // oldest first
  EXPECT_EQ(finished.value()[1].id, "y");
  finished = j->LoadFinished(1);
  ASSERT_TRUE(finished.ok());
  ASSERT_EQ(finished.value().size(), 1u);
  EXPECT_EQ(finished.value()[0].id, "y") << "the newest ones";
}

TEST_F(JournalTest, FinishedRowsAreCappedWhileRunning) {
  JournalLimits limits;
  limits.keep_finished_rows = 5;
  limits.prune_every = 10;
  auto opened = Journal::Open(path_, limits);
  ASSERT_TRUE(opened.ok());
  Journal& j = *opened.value();
  ASSERT_TRUE(j.Add({"open", proto::Kind::kFactor, "99", 5, std::nullopt, 0}).ok());
  for (int i = 0; i < 100; ++i) {
    const std::string id = "f" + std::to_string(i);
    ASSERT_TRUE(j.Add({id, proto::Kind::kFactor, "15", 5, std::nullopt, 0}).ok());
    ASSERT_TRUE(j.Finish(id, proto::JobState::kDone, "r").ok());
    // Never more than the cap plus one prune interval, plus the open row.
    ASSERT_LE(CountRows(), 1 + 5 + 10);
  }
  auto open = j.LoadOpen();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open.value().size(), 1u) << "open jobs are never pruned";
  auto newest = j.FindFinished("f99");
  ASSERT_TRUE(newest.ok());
  EXPECT_TRUE(newest.value());
}

TEST_F(JournalTest, AJournalWithoutTheResultColumnIsUpgraded) {
  Exec("CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, n TEXT NOT NULL,"
       " priority INTEGER NOT NULL, max_seconds REAL, deaths INTEGER NOT NULL DEFAULT 0,"
       " submitted_unix_ms INTEGER NOT NULL, state TEXT NOT NULL, finished_unix_ms INTEGER);"
       "INSERT INTO jobs VALUES('old', 'factor', '1001', 5, NULL, 1, 1, 'open', NULL);");
  auto j = Open();
  ASSERT_TRUE(j);
  auto open = j->LoadOpen();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open.value().size(), 1u);
  EXPECT_EQ(open.value()[0].deaths, 1);
  ASSERT_TRUE(j->Finish("old", proto::JobState::kDone, "r").ok());
  auto found = j->FindFinished("old");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found.value());
}

TEST_F(JournalTest, UnopenablePathIsAnError) {
  auto j = Journal::Open(dir_ + "/no/such/dir/journal.db");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, proto::ErrorCode::kInternal);
}

}  // namespace
}  // namespace zfactor::broker
