#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>

#include "common/resource_id.h"
#include "testing/temp_dir.h"

namespace privlink::store {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kVnet[] =
    "/subscriptions/S1/resourceGroups/Rg1/providers/Microsoft.Network/virtualNetworks/VNet1";
constexpr char kVnetKey[] =
    "/subscriptions/s1/resourcegroups/rg1/providers/microsoft.network/virtualnetworks/vnet1";
constexpr char kVnetType[] = "microsoft.network/virtualnetworks";

std::unique_ptr<Store> openOrDie(const std::string& path) {
  auto store = openSqliteStore(SqliteOptions{path});
  EXPECT_TRUE(store.ok()) << store.status().toString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::string vnetId(int i) {
  return "/subscriptions/S1/resourceGroups/Rg1/providers/Microsoft.Network/virtualNetworks/v" +
         std::to_string(i);
}

Result<Document> putOne(Store& store, std::string_view id, json body,
                        std::string_view type = kVnetType) {
  std::optional<Document> stored;
  Status s = store.write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(Document d, tx.put(id, type, std::move(body)));
    stored = std::move(d);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return *stored;
}

std::optional<Document> getOne(Store& store, std::string_view key) {
  std::optional<Document> out;
  Status s = store.read([&](ReadView& view) -> Status {
    ASSIGN_OR_RETURN(out, view.get(key));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.toString();
  return out;
}

// Every revision from 1 to store.revision() appears exactly once, in order.
void expectGapFreeFeed(Store& store) {
  auto changes = store.changesSince(0, SIZE_MAX);
  ASSERT_TRUE(changes.ok()) << changes.status().toString();
  ASSERT_EQ(static_cast<int64_t>(changes->size()), store.revision());
  for (size_t i = 0; i < changes->size(); ++i) {
    ASSERT_EQ((*changes)[i].revision, static_cast<int64_t>(i + 1));
  }
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = openOrDie(":memory:");
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, EmptyStoreHasRevisionZero) {
  EXPECT_EQ(store_->revision(), 0);
  auto changes = store_->changesSince(0, 10);
  ASSERT_TRUE(changes.ok());
  EXPECT_TRUE(changes->empty());
  EXPECT_FALSE(getOne(*store_, kVnetKey).has_value());
}

TEST_F(SqliteStoreTest, PutThenGet) {
  auto put =
      putOne(*store_, kVnet, json{{"location", "westeurope"}}, "Microsoft.Network/VirtualNetworks");
  ASSERT_TRUE(put.ok()) << put.status().toString();
  EXPECT_EQ(put->key, kVnetKey);
  EXPECT_EQ(put->id, kVnet);
  EXPECT_EQ(put->type, kVnetType);
  EXPECT_EQ(put->revision, 1);

  auto got = getOne(*store_, kVnetKey);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, kVnet);
  EXPECT_EQ(got->type, kVnetType);
  EXPECT_EQ(got->body, json({{"location", "westeurope"}}));
  EXPECT_EQ(got->etag, put->etag);
  EXPECT_EQ(got->revision, 1);
  EXPECT_EQ(store_->revision(), 1);
}

TEST_F(SqliteStoreTest, KeysAreNormalised) {
  ASSERT_TRUE(putOne(*store_,
                     "/subscriptions/S1/resourcegroups/Rg1//providers/Microsoft.Network/"
                     "virtualNetworks/VNet1/",
                     json::object())
                  .ok());
  auto got = getOne(*store_,
                    "/SUBSCRIPTIONS/s1/resourceGroups/RG1/providers/microsoft.network/"
                    "virtualnetworks/vnet1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->key, kVnetKey);
  EXPECT_EQ(got->id, kVnet);  // fixed words canonical, names as given
}

TEST_F(SqliteStoreTest, InternalRecordsUsePrivlinkKeys) {
  auto put =
      putOne(*store_, "/privlink/Principals/App1", json{{"secret", "x"}}, "privlink/principals");
  ASSERT_TRUE(put.ok()) << put.status().toString();
  EXPECT_EQ(put->key, "/privlink/principals/app1");
  EXPECT_EQ(put->id, "/privlink/Principals/App1");
  EXPECT_TRUE(getOne(*store_, "/privlink/principals/APP1").has_value());
}

TEST_F(SqliteStoreTest, PutRejectsMalformedId) {
  auto put = putOne(*store_, "/subscriptions/S1/virtualNetworks/v", json::object());
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().armCode(), "InvalidResourceId");
  EXPECT_EQ(store_->revision(), 0);
}

TEST_F(SqliteStoreTest, PutRejectsEmptyType) {
  auto put = putOne(*store_, kVnet, json::object(), "");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, PutRejectsBodyThatIsNotUtf8) {
  auto put = putOne(*store_, kVnet, json{{"name", std::string("\xff\xfe")}});
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().armCode(), "InvalidRequestContent");
  EXPECT_EQ(store_->revision(), 0);
}

TEST_F(SqliteStoreTest, EtagIsWeakHexAndChangesOnEveryWrite) {
  std::set<std::string> etags;
  for (int i = 0; i < 5; ++i) {
    auto put = putOne(*store_, kVnet, json{{"i", i}});
    ASSERT_TRUE(put.ok());
    ASSERT_EQ(put->etag.size(), 20u) << put->etag;
    EXPECT_EQ(put->etag.substr(0, 3), "W/\"");
    EXPECT_EQ(put->etag.back(), '"');
    EXPECT_EQ(put->etag.substr(3, 16).find_first_not_of("0123456789abcdef"), std::string::npos);
    etags.insert(put->etag);
  }
  EXPECT_EQ(etags.size(), 5u);
}

TEST_F(SqliteStoreTest, EraseRemovesAndRecordsDelete) {
  ASSERT_TRUE(putOne(*store_, kVnet, json{{"a", 1}}).ok());
  ASSERT_TRUE(store_->write([](Transaction& tx) { return tx.erase(kVnet); }).ok());
  EXPECT_FALSE(getOne(*store_, kVnetKey).has_value());
  EXPECT_EQ(store_->revision(), 2);
  auto changes = store_->changesSince(1, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].kind, ChangeKind::kDelete);
  EXPECT_EQ((*changes)[0].key, kVnetKey);
  EXPECT_EQ((*changes)[0].id, kVnet);
  EXPECT_EQ((*changes)[0].type, kVnetType);
  EXPECT_TRUE((*changes)[0].body.is_null());
}

TEST_F(SqliteStoreTest, EraseMissingIsNotFoundAndConsumesNothing) {
  Status s = store_->write([](Transaction& tx) { return tx.erase(kVnetKey); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->revision(), 0);
}

TEST_F(SqliteStoreTest, ListPrefixIsOrderedAndRespectsBoundaries) {
  const std::string rg1 = "/subscriptions/S1/resourceGroups/rg1/providers/Microsoft.Network/";
  const std::string rg10 = "/subscriptions/S1/resourceGroups/rg10/providers/Microsoft.Network/";
  ASSERT_TRUE(store_
                  ->write([&](Transaction& tx) -> Status {
                    for (const std::string& id :
                         {rg1 + "virtualNetworks/b", rg10 + "virtualNetworks/a",
                          rg1 + "virtualNetworks/a", rg1 + "privateEndpoints/pe"}) {
                      auto put = tx.put(id,
                                        id.find("privateEndpoints") == std::string::npos
                                            ? kVnetType
                                            : "microsoft.network/privateendpoints",
                                        json::object());
                      if (!put.ok()) return put.status();
                    }
                    return Status::Ok();
                  })
                  .ok());
  Status s = store_->read([&](ReadView& view) -> Status {
    ASSIGN_OR_RETURN(auto docs, view.listPrefix("/subscriptions/s1/RESOURCEGROUPS/RG1/"));
    std::vector<std::string> names;
    for (const auto& d : docs) names.push_back(d.key.substr(d.key.rfind('/') + 1));
    EXPECT_EQ(names, (std::vector<std::string>{"pe", "a", "b"}));

    ASSIGN_OR_RETURN(auto all, view.listPrefix(""));
    EXPECT_EQ(all.size(), 4u);

    ASSIGN_OR_RETURN(auto vnets, view.listType(kVnetType));
    EXPECT_EQ(vnets.size(), 3u);
    ASSIGN_OR_RETURN(auto rg1Vnets,
                     view.listType("Microsoft.Network/virtualNetworks", toLower(rg1)));
    EXPECT_EQ(rg1Vnets.size(), 2u);
    if (rg1Vnets.size() == 2) {
      EXPECT_LT(rg1Vnets[0].key, rg1Vnets[1].key);
    }
    ASSIGN_OR_RETURN(auto none, view.listType("microsoft.network/loadbalancers"));
    EXPECT_TRUE(none.empty());
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.toString();
}

TEST_F(SqliteStoreTest, RevisionGrowsByOnePerChangeAcrossTransactions) {
  Status s = store_->write([](Transaction& tx) -> Status {
    for (int i = 0; i < 3; ++i) {
      ASSIGN_OR_RETURN(Document d, tx.put(vnetId(i), kVnetType, json::object()));
      EXPECT_EQ(d.revision, i + 1);
      EXPECT_EQ(tx.revision(), i + 1);  // the transaction sees its own changes
    }
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(store_->revision(), 3);
  s = store_->write([](Transaction& tx) -> Status {
    RETURN_IF_ERROR(tx.erase(vnetId(0)));
    ASSIGN_OR_RETURN(Document d, tx.put(vnetId(1), kVnetType, json{{"x", 1}}));
    EXPECT_EQ(d.revision, 5);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(store_->revision(), 5);
  expectGapFreeFeed(*store_);
}

TEST_F(SqliteStoreTest, EmptyTransactionConsumesNoRevision) {
  ASSERT_TRUE(store_->write([](Transaction&) { return Status::Ok(); }).ok());
  EXPECT_EQ(store_->revision(), 0);
}

TEST_F(SqliteStoreTest, FailedTransactionRollsBackAndConsumesNoRevision) {
  ASSERT_TRUE(putOne(*store_, vnetId(0), json{{"v", "old"}}).ok());
  Status s = store_->write([](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(Document d, tx.put(vnetId(0), kVnetType, json{{"v", "new"}}));
    ASSIGN_OR_RETURN(d, tx.put(vnetId(1), kVnetType, json::object()));
    return Status::Conflict("InUseSubnetCannotBeDeleted", "test");
  });
  EXPECT_EQ(s.armCode(), "InUseSubnetCannotBeDeleted");
  EXPECT_EQ(store_->revision(), 1);
  EXPECT_EQ(getOne(*store_, toLower(vnetId(0)))->body, json({{"v", "old"}}));
  EXPECT_FALSE(getOne(*store_, toLower(vnetId(1))).has_value());
  auto next = putOne(*store_, vnetId(2), json::object());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->revision, 2);
  expectGapFreeFeed(*store_);
}

TEST_F(SqliteStoreTest, ThrowingTransactionRollsBackAsInternal) {
  Status s = store_->write([](Transaction& tx) -> Status {
    auto put = tx.put(vnetId(0), kVnetType, json::object());
    EXPECT_TRUE(put.ok());
    json j = json::array();
    (void)j.at("missing");  // nlohmann throws type_error
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("threw"), std::string::npos) << s.message();
  EXPECT_EQ(store_->revision(), 0);
  EXPECT_FALSE(getOne(*store_, toLower(vnetId(0))).has_value());
  s = store_->write([](Transaction&) -> Status { throw 42; });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
}

TEST_F(SqliteStoreTest, TransactionSeesOwnWritesReadersDoNot) {
  Status s = store_->write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(Document d, tx.put(kVnet, kVnetType, json{{"a", 1}}));
    ASSIGN_OR_RETURN(auto mine, tx.get(kVnetKey));
    EXPECT_TRUE(mine.has_value());
    ASSIGN_OR_RETURN(auto listed, tx.listType(kVnetType));
    EXPECT_EQ(listed.size(), 1u);
    // Another reader, even on this thread, sees only committed data.
    EXPECT_FALSE(getOne(*store_, kVnetKey).has_value());
    auto feed = store_->changesSince(0, 10);
    EXPECT_TRUE(feed.ok() && feed->empty());
    EXPECT_EQ(store_->revision(), 0);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_TRUE(getOne(*store_, kVnetKey).has_value());
}

TEST_F(SqliteStoreTest, NestedWriteOnSameThreadIsRefused) {
  Status inner;
  Status outer = store_->write([&](Transaction&) -> Status {
    inner = store_->write([](Transaction&) { return Status::Ok(); });
    return Status::Ok();
  });
  EXPECT_TRUE(outer.ok());
  EXPECT_EQ(inner.code(), StatusCode::kInternal);
}

TEST_F(SqliteStoreTest, ReadViewIsASnapshot) {
  ASSERT_TRUE(putOne(*store_, kVnet, json{{"v", 1}}).ok());
  Status s = store_->read([&](ReadView& view) -> Status {
    EXPECT_EQ(view.revision(), 1);
    ASSIGN_OR_RETURN(auto before, view.get(kVnetKey));
    // A writer on another thread commits while this snapshot is open (WAL: it is not blocked).
    auto writer = std::async(std::launch::async, [&] {
      return putOne(*store_, kVnet, json{{"v", 2}}).ok();
    });
    EXPECT_TRUE(writer.get());
    ASSIGN_OR_RETURN(auto after, view.get(kVnetKey));
    EXPECT_EQ(after->body, json({{"v", 1}}));
    EXPECT_EQ(view.revision(), 1);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(getOne(*store_, kVnetKey)->body, json({{"v", 2}}));
}

TEST_F(SqliteStoreTest, ReadPropagatesCallbackStatus) {
  Status s = store_->read([](ReadView&) { return Status::NotFound("ResourceNotFound", "x"); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ChangesSinceHonoursAfterAndLimit) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(putOne(*store_, vnetId(i), json{{"i", i}}).ok());
  auto page = store_->changesSince(3, 4);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 4u);
  EXPECT_EQ(page->front().revision, 4);
  EXPECT_EQ(page->back().revision, 7);
  EXPECT_EQ(page->front().kind, ChangeKind::kPut);
  EXPECT_EQ(page->front().body, json({{"i", 3}}));
  EXPECT_EQ(page->front().id, vnetId(3));
  auto tail = store_->changesSince(8, 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->size(), 2u);
  auto none = store_->changesSince(10, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteStoreTest, ConcurrentWritersLeaveAGapFreeFeed) {
  constexpr int kThreads = 4;
  constexpr int kWritesPerThread = 50;
  std::atomic<bool> failed{false};
  std::atomic<bool> done{false};
  // A follower reads the feed while writers run; every page it sees must be contiguous.
  std::thread follower([&] {
    int64_t seen = 0;
    while (!done.load() || seen < store_->revision()) {
      auto page = store_->changesSince(seen, 64);
      if (!page.ok()) {
        failed = true;
        return;
      }
      for (const Change& c : *page) {
        if (c.revision != seen + 1) failed = true;
        seen = c.revision;
      }
      if (page->empty()) store_->waitForChange(seen, 10ms);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        // Alternate one- and two-change transactions.
        Status s = store_->write([&](Transaction& tx) -> Status {
          ASSIGN_OR_RETURN(Document d, tx.put(vnetId(t * 1000 + i), kVnetType, json::object()));
          if (i % 2) {
            ASSIGN_OR_RETURN(
                d, tx.put("/privlink/t" + std::to_string(t), "privlink/test", json{{"i", i}}));
          }
          return Status::Ok();
        });
        if (!s.ok()) failed = true;
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  follower.join();
  EXPECT_FALSE(failed.load());
  EXPECT_EQ(store_->revision(), kThreads * (kWritesPerThread + kWritesPerThread / 2));
  expectGapFreeFeed(*store_);
}

TEST_F(SqliteStoreTest, WaitForChangeWakesOnCommit) {
  auto waiter = std::async(std::launch::async, [&] { return store_->waitForChange(0, 10s); });
  std::this_thread::sleep_for(50ms);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(putOne(*store_, kVnet, json::object()).ok());
  EXPECT_EQ(waiter.get(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(SqliteStoreTest, WaitForChangeTimesOut) {
  ASSERT_TRUE(putOne(*store_, kVnet, json::object()).ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(store_->waitForChange(1, 30ms), 1);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_EQ(store_->waitForChange(0, 10s), 1);  // already past: returns at once
}

TEST(SqliteStoreOpenTest, RejectsEmptyPath) {
  auto store = openSqliteStore(SqliteOptions{""});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
}

TEST(SqliteStoreOpenTest, ReportsUnopenablePath) {
  testing::TempDir dir;
  auto store = openSqliteStore(SqliteOptions{dir.file("missing-dir/state.db")});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_NE(store.status().message().find("missing-dir/state.db"), std::string::npos);
}

TEST(SqliteStoreOpenTest, AnonymousStoreDeletesItsFileOnClose) {
  auto store = SqliteStore::open(SqliteOptions{":memory:"});
  ASSERT_TRUE(store.ok()) << store.status().toString();
  std::string path = (*store)->path();
  EXPECT_TRUE(std::filesystem::exists(path));
  store.value().reset();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteStoreFileTest, ChangeFeedKeepsOnlyTheNewestChangesAndSaysWhereItStarts) {
  testing::TempDir dir;
  const std::string path = dir.file("state.db");
  SqliteOptions options{path};
  options.changeRetention = 20;
  {
    auto store = openSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.status().toString();
    // One document rewritten 100 times, as the counter publisher does.
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(putOne(**store, vnetId(1), json{{"i", i}}).ok());
    EXPECT_EQ((*store)->revision(), 100);
    auto feed = (*store)->changesSince(0, SIZE_MAX);
    ASSERT_TRUE(feed.ok());
    // Pruned a batch (a tenth of the retention) at a time: between 20 and 22 rows remain.
    ASSERT_GE(feed->size(), 20u);
    ASSERT_LE(feed->size(), 22u);
    EXPECT_GT(feed->front().revision, 1);  // the gap a follower must notice
    EXPECT_EQ(feed->back().revision, 100);
    for (size_t i = 1; i < feed->size(); ++i) {
      EXPECT_EQ((*feed)[i].revision, (*feed)[i - 1].revision + 1);
    }
    EXPECT_EQ(getOne(**store, toLower(vnetId(1)))->body, json({{"i", 99}}));
  }
  // Reopened: the revision survives pruning, and pruning goes on from where it stopped.
  auto store = openSqliteStore(options);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->revision(), 100);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(putOne(**store, vnetId(2), json{{"i", i}}).ok());
  auto feed = (*store)->changesSince(0, SIZE_MAX);
  ASSERT_TRUE(feed.ok());
  ASSERT_GE(feed->size(), 20u);
  ASSERT_LE(feed->size(), 22u);
  EXPECT_EQ(feed->back().revision, 130);
}

TEST(SqliteStoreFileTest, ReopenKeepsEverything) {
  testing::TempDir dir;
  const std::string path = dir.file("state.db");
  std::string etag;
  {
    auto store = openOrDie(path);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(putOne(*store, vnetId(i), json{{"i", i}}).ok());
    ASSERT_TRUE(store->write([](Transaction& tx) { return tx.erase(vnetId(2)); }).ok());
    etag = getOne(*store, toLower(vnetId(4)))->etag;
  }
  auto store = openOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->revision(), 6);
  auto doc = getOne(*store, toLower(vnetId(4)));
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->body, json({{"i", 4}}));
  EXPECT_EQ(doc->etag, etag);
  EXPECT_EQ(doc->revision, 5);
  EXPECT_FALSE(getOne(*store, toLower(vnetId(2))).has_value());
  expectGapFreeFeed(*store);
  auto next = putOne(*store, vnetId(9), json::object());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->revision, 7);
}

// Runs one SQL statement on a database file directly, as an older or newer privlink might.
void rawExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

std::string rawQueryText(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "open failed";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

TEST(SqliteStoreFileTest, NewDatabaseRecordsSchemaVersionAndWal) {
  testing::TempDir dir;
  const std::string path = dir.file("state.db");
  ASSERT_NE(openOrDie(path), nullptr);
  EXPECT_EQ(rawQueryText(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(rawQueryText(path, "PRAGMA journal_mode"), "wal");
}

TEST(SqliteStoreFileTest, RefusesNewerSchemaVersion) {
  testing::TempDir dir;
  const std::string path = dir.file("state.db");
  {
    auto store = openOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(putOne(*store, kVnet, json::object()).ok());
  }
  rawExec(path, "UPDATE meta SET value = '999' WHERE key = 'schema_version'");
  auto store = openSqliteStore(SqliteOptions{path});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("schema version 999"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("supports up to 1"), std::string::npos);
  // Refusing must not have touched the data.
  EXPECT_EQ(rawQueryText(path, "SELECT COUNT(*) FROM documents"), "1");
}

TEST(SqliteStoreFileTest, RefusesCorruptSchemaVersion) {
  testing::TempDir dir;
  const std::string path = dir.file("state.db");
  ASSERT_NE(openOrDie(path), nullptr);
  rawExec(path, "UPDATE meta SET value = 'two' WHERE key = 'schema_version'");
  auto store = openSqliteStore(SqliteOptions{path});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("corrupt schema_version 'two'"), std::string::npos);
}

TEST(SqliteStoreFileTest, RefusesAFileThatIsNotADatabase) {
  testing::TempDir dir;
  const std::string path = dir.file("state.db");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not an SQLite database, but it is long enough to have a header page\n", f);
  std::fclose(f);
  auto store = openSqliteStore(SqliteOptions{path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
}

// A child process writes documents and reports each acknowledged revision through a pipe; it is
// killed with SIGKILL mid-stream. Every acknowledged revision must survive, and the feed must
// stay gap-free.
TEST(SqliteStoreFileTest, AcknowledgedWritesSurviveSigkill) {
  testing::TempDir dir;
  const std::string path = dir.file("state.db");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto store = openSqliteStore(SqliteOptions{path});
    if (!store.ok()) _exit(2);
    for (int i = 0; i < 1000000; ++i) {
      auto put = putOne(**store, vnetId(i), json{{"i", i}});
      if (!put.ok()) _exit(3);
      int64_t revision = put->revision;
      if (write(fds[1], &revision, sizeof revision) != sizeof revision) _exit(4);
    }
    _exit(0);
  }
  close(fds[1]);
  std::vector<int64_t> acked;
  int64_t revision = 0;
  bool killed = false;
  while (read(fds[0], &revision, sizeof revision) == sizeof revision) {
    acked.push_back(revision);
    if (!killed && acked.size() == 100) {
      kill(child, SIGKILL);
      killed = true;
    }
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "child exited early with status " << wstatus;
  ASSERT_GE(acked.size(), 100u);

  auto store = openOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_GE(store->revision(), acked.back());
  for (size_t i = 0; i < acked.size(); ++i) {
    ASSERT_EQ(acked[i], static_cast<int64_t>(i + 1));
    auto doc = getOne(*store, toLower(vnetId(static_cast<int>(i))));
    ASSERT_TRUE(doc.has_value()) << "acknowledged revision " << acked[i] << " lost";
    EXPECT_EQ(doc->revision, acked[i]);
  }
  expectGapFreeFeed(*store);
}

}  // namespace
}  // namespace privlink::store
