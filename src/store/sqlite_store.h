#pragma once
// SqliteStore: the Store (store.h) on an embedded SQLite database.
//
// Connections: one writer connection, used under writer_mu_ by write() only, and a pool of reader
// connections for read() and changesSince(). In WAL mode a reader holds a snapshot of the last
// commit and neither blocks nor is blocked by the writer, so a slow reader (the agent compiling a
// snapshot) never delays an API write, and a write's fsync never delays a read. Writes are
// serialised anyway (BEGIN IMMEDIATE on the single writer), which is what gives gap-free
// revisions.
//
// Durability: journal_mode=WAL, synchronous=FULL: write() returns after the WAL is fsynced.
// ":memory:" opens an anonymous store in a private temporary file that is deleted on close; it
// behaves like a file store (readers on their own connections, snapshots) but is not durable
// (synchronous=OFF).
//
// Schema: a meta table holds schema_version; open() applies the migrations newer than the
// on-disk version in order, in one transaction, and refuses a database written by a newer
// privlink (a newer schema_version than kSqliteSchemaVersion).
//
// Keys: put() accepts an ARM id (normalised with ResourceId: key() and toString()) or an internal
// id starting with "/privlink/" (lower-cased, `//` collapsed, trailing '/' removed); get() and
// erase() normalise their key the same way. Types are stored lower-cased.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace privlink::store {

// Schema version this build writes; bump it when adding a migration (sqlite_store.cc kMigrations).
inline constexpr int kSqliteSchemaVersion = 1;

class SqliteConnection;

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> open(const SqliteOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status write(const std::function<Status(Transaction&)>& fn) override;
  Status read(const std::function<Status(ReadView&)>& fn) override;
  Result<std::vector<Change>> changesSince(int64_t after, size_t limit) override;
  int64_t revision() override;
  int64_t waitForChange(int64_t after, std::chrono::milliseconds timeout) override;

  // The database file (the temporary file for ":memory:").
  const std::string& path() const { return path_; }

 private:
  SqliteStore() = default;
  Result<std::unique_ptr<SqliteConnection>> acquireReader();
  void releaseReader(std::unique_ptr<SqliteConnection> connection);

  std::string path_;
  bool anonymous_ = false;  // ":memory:": delete the files on close

  std::mutex writer_mu_;
  std::unique_ptr<SqliteConnection> writer_;      // guarded by writer_mu_
  std::atomic<std::thread::id> writer_thread_{};  // detects write() called inside write()

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;  // guarded by readers_mu_

  std::mutex revision_mu_;
  std::condition_variable revision_cv_;
  int64_t committed_ = 0;  // guarded by revision_mu_

  int64_t change_retention_ = 1;
  int64_t pruned_through_ = 0;  // changes up to here are gone; guarded by writer_mu_
};

}  // namespace privlink::store
