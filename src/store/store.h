#pragma once
// The Store: every resource privlink knows about, as a JSON document keyed by its normalised ARM
// id (ResourceId::key()), with an etag and the store-wide revision of its last write.
//
// Contract
// - Writes happen in transactions (write()). Each put or erase inside a committed transaction
//   takes the next store revision, so revisions grow by exactly one per committed change and the
//   change feed (changesSince) has no gaps. A transaction that returns a non-ok Status, or throws,
//   is rolled back and consumes no revision.
// - When write() returns ok the commit is durable: it survives kill -9 of the process (SQLite WAL
//   with synchronous=FULL).
// - Reads see a consistent snapshot.
// - Thread-safe: any thread may call any method; writes are serialised.
//
// Internal records that are not ARM resources (principals, secrets, operations, allocator state)
// live under keys starting with "/privlink/" with a type starting with "privlink/"; they are
// documents like any other and appear in the change feed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace privlink::store {

struct Document {
  std::string key;   // lower-case normalised id
  std::string id;    // the id with the caller's casing
  std::string type;  // lower-case resource type, e.g. "microsoft.network/virtualnetworks"
  nlohmann::json body;
  std::string etag;  // W/"<hex>", new on every write
  int64_t revision = 0;
};

enum class ChangeKind { kPut, kDelete };

struct Change {
  int64_t revision = 0;
  ChangeKind kind = ChangeKind::kPut;
  std::string key;
  std::string id;
  std::string type;
  nlohmann::json body;  // the document body after a put; null after a delete
};

class ReadView {
 public:
  virtual ~ReadView() = default;
  virtual Result<std::optional<Document>> get(std::string_view key) = 0;
  // Documents whose key starts with keyPrefix (compare lower-case), in key order.
  virtual Result<std::vector<Document>> listPrefix(std::string_view keyPrefix) = 0;
  // Documents of one lower-case type, in key order; the optional keyPrefix narrows the scope
  // (e.g. a subscription or resource group key followed by '/').
  virtual Result<std::vector<Document>> listType(std::string_view type,
                                                 std::string_view keyPrefix = {}) = 0;
  // Revision the view reads at.
  virtual int64_t revision() = 0;
};

class Transaction : public ReadView {
 public:
  // Creates or replaces a document; returns it as stored (new etag; revision = the one it will
  // commit at).
  virtual Result<Document> put(std::string_view id, std::string_view type, nlohmann::json body) = 0;
  // Removes a document; NotFound if absent.
  virtual Status erase(std::string_view key) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs fn in one serialisable write transaction. Commits (durably) iff fn returns ok.
  virtual Status write(const std::function<Status(Transaction&)>& fn) = 0;
  // Runs fn on a consistent snapshot.
  virtual Status read(const std::function<Status(ReadView&)>& fn) = 0;

  // Changes with revision > after, oldest first, at most limit of them. The feed keeps only the
  // newest changes (SqliteOptions::changeRetention); when older ones were pruned the first change
  // returned has a revision above after + 1, and a caller that needs every change (to follow
  // documents incrementally) must notice that gap and re-read the documents instead.
  virtual Result<std::vector<Change>> changesSince(int64_t after, size_t limit) = 0;
  // Latest committed revision (0 for an empty store).
  virtual int64_t revision() = 0;
  // Blocks until revision() > after or the timeout passes; returns revision().
  virtual int64_t waitForChange(int64_t after, std::chrono::milliseconds timeout) = 0;
};

struct SqliteOptions {
  std::string path;  // file path; ":memory:" for tests
  // The change feed keeps at least the newest changeRetention changes; older rows are deleted in
  // batches (about a tenth of the retention at a time) by the write that passes the limit, so the
  // feed does not grow with every write forever (counter documents are rewritten every few
  // seconds). Documents themselves are never pruned. At least 1.
  int64_t changeRetention = 100'000;
};
// ":memory:" gives an anonymous store (a private temporary file, deleted on close, not durable)
// with the same transaction and snapshot semantics as a file store. put() normalises ARM ids with
// ResourceId (and "/privlink/..." ids by lower-casing); get()/erase() normalise keys the same way,
// and an id that is neither fails with InvalidResourceId. A database whose schema is newer than
// this build is refused with an Internal status that says so.
// Opens (creating or migrating the schema as needed) a SQLite store.
Result<std::unique_ptr<Store>> openSqliteStore(const SqliteOptions& options);

}  // namespace privlink::store
