#include "store/sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/guid.h"
#include "common/resource_id.h"

namespace privlink::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr size_t kMaxIdleReaders = 8;
constexpr std::string_view kInternalPrefix = "/privlink/";

// Migration N takes the schema from version N-1 to N. Append only; never edit a shipped entry.
constexpr const char* kMigrations[] = {
    // 1: documents, their type index and the change feed.
    "CREATE TABLE documents ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  etag TEXT NOT NULL,"
    "  revision INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX documents_type_key ON documents (type, key);"
    "CREATE TABLE changes ("
    "  revision INTEGER PRIMARY KEY NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('put', 'delete')),"
    "  key TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  body TEXT"
    ");",
};
static_assert(std::size(kMigrations) == kSqliteSchemaVersion,
              "kSqliteSchemaVersion must equal the number of migrations");

}  // namespace

// One SQLite connection and its prepared-statement cache. Not thread-safe: the store hands each
// connection to one thread at a time.
class SqliteConnection {
 public:
  static Result<std::unique_ptr<SqliteConnection>> open(const std::string& path, bool reader,
                                                        bool durable) {
    auto c = std::unique_ptr<SqliteConnection>(new SqliteConnection(path));
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (reader ? 0 : SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &c->db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      return Status::Internal("cannot open the store database " + path + ": " +
                              (c->db_ ? sqlite3_errmsg(c->db_) : sqlite3_errstr(rc)) +
                              "; check that the state directory exists and is writable");
    }
    sqlite3_extended_result_codes(c->db_, 1);
    sqlite3_busy_timeout(c->db_, kBusyTimeoutMs);
    if (reader) {
      RETURN_IF_ERROR(c->exec("PRAGMA query_only = ON"));
      return c;
    }
    ASSIGN_OR_RETURN(std::string mode, c->pragmaText("PRAGMA journal_mode = WAL"));
    if (mode != "wal") {
      return Status::Internal("the store database " + path +
                              " cannot use write-ahead logging (journal_mode is " + mode +
                              "); put the state directory on a local file system");
    }
    RETURN_IF_ERROR(c->exec(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF"));
    RETURN_IF_ERROR(c->exec("PRAGMA foreign_keys = ON"));
    return c;
  }

  ~SqliteConnection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (db_) sqlite3_close(db_);
  }

  Status error(std::string_view what) const {
    return Status::Internal("store " + path_ + ": " + std::string(what) + ": " +
                            sqlite3_errmsg(db_));
  }

  // Runs statements without parameters (pragmas, BEGIN/COMMIT, DDL).
  Status exec(const char* sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    if ((rc & 0xff) == SQLITE_BUSY) {
      return Status::Unavailable("the store database " + path_ +
                                 " is locked by another process; retry later");
    }
    return Status::Internal("store " + path_ + ": " + sql + ": " + text);
  }

  Result<std::string> pragmaText(const char* sql) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, prepare(sql));
    int rc = sqlite3_step(stmt);
    std::string value;
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      value = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error(sql);
    return value;
  }

  // Returns the cached prepared statement for sql (which must be a string literal).
  Result<sqlite3_stmt*> prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return error(std::string("preparing ") + sql);
    }
    cache_.emplace(sql, stmt);
    return stmt;
  }

  sqlite3* db() const { return db_; }

 private:
  explicit SqliteConnection(std::string path) : path_(std::move(path)) {}
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;  // keyed by the literal's address
};

namespace {

// A cached statement in use: binds, steps, reads columns, and resets it when done.
class Query {
 public:
  Query(SqliteConnection& connection, sqlite3_stmt* stmt) : c_(connection), s_(stmt) {}
  ~Query() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, std::string_view text) {
    note(sqlite3_bind_text64(s_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  Query& bind(int index, int64_t value) {
    note(sqlite3_bind_int64(s_, index, value));
    return *this;
  }
  Query& bindNull(int index) {
    note(sqlite3_bind_null(s_, index));
    return *this;
  }

  // True when a row is available, false when done.
  Result<bool> step() {
    if (bind_rc_ != SQLITE_OK) return c_.error("binding a parameter");
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return c_.error(sqlite3_sql(s_));
  }
  Status run() {
    ASSIGN_OR_RETURN(bool row, step());
    (void)row;
    return Status::Ok();
  }

  std::string text(int column) const {
    const unsigned char* p = sqlite3_column_text(s_, column);
    int n = sqlite3_column_bytes(s_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : "";
  }
  int64_t integer(int column) const { return sqlite3_column_int64(s_, column); }
  bool isNull(int column) const { return sqlite3_column_type(s_, column) == SQLITE_NULL; }

 private:
  void note(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  SqliteConnection& c_;
  sqlite3_stmt* s_;
  int bind_rc_ = SQLITE_OK;
};

Result<nlohmann::json> parseBody(const std::string& text, const std::string& key) {
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return Status::Internal("the stored body of " + key + " is not valid JSON");
  }
  return body;
}

// Reads the current row (key, id, type, body, etag, revision) into a Document.
Result<Document> rowToDocument(const Query& q) {
  Document d;
  d.key = q.text(0);
  d.id = q.text(1);
  d.type = q.text(2);
  ASSIGN_OR_RETURN(d.body, parseBody(q.text(3), d.key));
  d.etag = q.text(4);
  d.revision = q.integer(5);
  return d;
}

struct NormalisedId {
  std::string key;
  std::string id;
};

// Collapses "//" and drops a trailing '/': the same rules ResourceId applies to ARM ids.
std::string collapseSlashes(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<NormalisedId> normaliseId(std::string_view text) {
  if (istartsWith(text, kInternalPrefix)) {
    std::string id = collapseSlashes(text);
    if (id.size() <= kInternalPrefix.size()) {
      return Status::InvalidArgument("InvalidResourceId",
                                     "'" + std::string(text) + "' names no internal record");
    }
    return NormalisedId{toLower(id), id};
  }
  ASSIGN_OR_RETURN(ResourceId parsed, ResourceId::parse(text));
  return NormalisedId{parsed.key(), parsed.toString()};
}

// Smallest string greater than every string that starts with prefix, for range scans on the
// binary-collated key. UTF-8 never contains the byte 0xff.
std::string prefixEnd(const std::string& prefix) { return prefix + '\xff'; }

Result<std::optional<Document>> getDocument(SqliteConnection& c, std::string_view key) {
  ASSIGN_OR_RETURN(NormalisedId n, normaliseId(key));
  static constexpr const char* kSql =
      "SELECT key, id, type, body, etag, revision FROM documents WHERE key = ?1";
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c.prepare(kSql));
  Query q(c, stmt);
  q.bind(1, n.key);
  ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return std::optional<Document>();
  ASSIGN_OR_RETURN(Document d, rowToDocument(q));
  return std::optional<Document>(std::move(d));
}

Result<std::vector<Document>> collect(Query& q) {
  std::vector<Document> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    ASSIGN_OR_RETURN(Document d, rowToDocument(q));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<Document>> listPrefixDocuments(SqliteConnection& c, std::string_view prefix) {
  static constexpr const char* kSql =
      "SELECT key, id, type, body, etag, revision FROM documents"
      " WHERE key >= ?1 AND key < ?2 ORDER BY key";
  std::string lower = toLower(prefix);
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c.prepare(kSql));
  Query q(c, stmt);
  q.bind(1, lower).bind(2, prefixEnd(lower));
  return collect(q);
}

Result<std::vector<Document>> listTypeDocuments(SqliteConnection& c, std::string_view type,
                                                std::string_view prefix) {
  static constexpr const char* kSql =
      "SELECT key, id, type, body, etag, revision FROM documents"
      " WHERE type = ?1 AND key >= ?2 AND key < ?3 ORDER BY type, key";
  std::string lower = toLower(prefix);
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c.prepare(kSql));
  Query q(c, stmt);
  q.bind(1, toLower(type)).bind(2, lower).bind(3, prefixEnd(lower));
  return collect(q);
}

Result<int64_t> lastRevision(SqliteConnection& c) {
  static constexpr const char* kSql = "SELECT COALESCE(MAX(revision), 0) FROM changes";
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c.prepare(kSql));
  Query q(c, stmt);
  ASSIGN_OR_RETURN(bool row, q.step());
  return row ? q.integer(0) : int64_t{0};
}

// A read-only snapshot on a reader connection inside BEGIN ... COMMIT.
class SnapshotView final : public ReadView {
 public:
  SnapshotView(SqliteConnection& c, int64_t revision) : c_(c), revision_(revision) {}
  Result<std::optional<Document>> get(std::string_view key) override {
    return getDocument(c_, key);
  }
  Result<std::vector<Document>> listPrefix(std::string_view keyPrefix) override {
    return listPrefixDocuments(c_, keyPrefix);
  }
  Result<std::vector<Document>> listType(std::string_view type,
                                         std::string_view keyPrefix) override {
    return listTypeDocuments(c_, type, keyPrefix);
  }
  int64_t revision() override { return revision_; }

 private:
  SqliteConnection& c_;
  int64_t revision_;
};

// The write transaction handed to write()'s callback. Reads see its own uncommitted writes.
class WriteTransaction final : public Transaction {
 public:
  WriteTransaction(SqliteConnection& c, int64_t base) : c_(c), base_(base) {}

  Result<std::optional<Document>> get(std::string_view key) override {
    return getDocument(c_, key);
  }
  Result<std::vector<Document>> listPrefix(std::string_view keyPrefix) override {
    return listPrefixDocuments(c_, keyPrefix);
  }
  Result<std::vector<Document>> listType(std::string_view type,
                                         std::string_view keyPrefix) override {
    return listTypeDocuments(c_, type, keyPrefix);
  }
  // The revision of the newest state this transaction sees: the base plus its own changes.
  int64_t revision() override { return base_ + changes_; }

  Result<Document> put(std::string_view id, std::string_view type, nlohmann::json body) override {
    RETURN_IF_ERROR(failed_);
    ASSIGN_OR_RETURN(NormalisedId n, normaliseId(id));
    if (type.empty()) {
      return Status::InvalidArgument("InvalidResourceType", "document " + n.id + " has no type");
    }
    std::string bodyText;
    try {
      bodyText = body.dump();
    } catch (const nlohmann::json::exception& e) {
      return Status::InvalidArgument("InvalidRequestContent",
                                     "the body of " + n.id + " cannot be stored: " + e.what());
    }
    Document d;
    d.key = std::move(n.key);
    d.id = std::move(n.id);
    d.type = toLower(type);
    d.body = std::move(body);
    d.etag = "W/\"" + randomHex(8) + "\"";
    d.revision = base_ + changes_ + 1;

    static constexpr const char* kUpsert =
        "INSERT INTO documents (key, id, type, body, etag, revision)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT (key) DO UPDATE SET id = excluded.id, type = excluded.type,"
        " body = excluded.body, etag = excluded.etag, revision = excluded.revision";
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c_.prepare(kUpsert));
      Query q(c_, stmt);
      q.bind(1, d.key).bind(2, d.id).bind(3, d.type).bind(4, bodyText).bind(5, d.etag);
      q.bind(6, d.revision);
      RETURN_IF_ERROR(poison(q.run()));
    }
    RETURN_IF_ERROR(appendChange(d.revision, "put", d.key, d.id, d.type, &bodyText));
    ++changes_;
    return d;
  }

  Status erase(std::string_view key) override {
    RETURN_IF_ERROR(failed_);
    ASSIGN_OR_RETURN(std::optional<Document> existing, getDocument(c_, key));
    if (!existing) {
      return Status::NotFound("ResourceNotFound", std::string(key) + " was not found");
    }
    static constexpr const char* kDelete = "DELETE FROM documents WHERE key = ?1";
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c_.prepare(kDelete));
      Query q(c_, stmt);
      q.bind(1, existing->key);
      RETURN_IF_ERROR(poison(q.run()));
    }
    RETURN_IF_ERROR(appendChange(base_ + changes_ + 1, "delete", existing->key, existing->id,
                                 existing->type, nullptr));
    ++changes_;
    return Status::Ok();
  }

  int64_t changes() const { return changes_; }
  // Non-ok once a statement failed: the transaction must not commit even if the callback
  // ignores the error.
  const Status& failed() const { return failed_; }

 private:
  Status poison(Status s) {
    if (!s.ok() && failed_.ok()) failed_ = s;
    return s;
  }

  Status appendChange(int64_t revision, const char* kind, const std::string& key,
                      const std::string& id, const std::string& type, const std::string* body) {
    static constexpr const char* kInsert =
        "INSERT INTO changes (revision, kind, key, id, type, body)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c_.prepare(kInsert));
    Query q(c_, stmt);
    q.bind(1, revision).bind(2, std::string_view(kind)).bind(3, key).bind(4, id).bind(5, type);
    if (body) {
      q.bind(6, *body);
    } else {
      q.bindNull(6);
    }
    return poison(q.run());
  }

  SqliteConnection& c_;
  int64_t base_;
  int64_t changes_ = 0;
  Status failed_;
};

Status migrate(SqliteConnection& c, const std::string& path) {
  RETURN_IF_ERROR(c.exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    RETURN_IF_ERROR(c.exec(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)"));
    static constexpr const char* kGet = "SELECT value FROM meta WHERE key = 'schema_version'";
    int64_t version = 0;
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c.prepare(kGet));
      Query q(c, stmt);
      ASSIGN_OR_RETURN(bool row, q.step());
      if (row) {
        std::string text = q.text(0);
        char* end = nullptr;
        version = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || version < 0) {
          return Status::Internal("the store database " + path + " has a corrupt schema_version '" +
                                  text + "'");
        }
      }
    }
    if (version > kSqliteSchemaVersion) {
      return Status::Internal("the store database " + path + " has schema version " +
                              std::to_string(version) + " but this privlink supports up to " +
                              std::to_string(kSqliteSchemaVersion) +
                              "; run a privlink at least as new as the one that wrote it, or "
                              "restore a backup taken before the upgrade");
    }
    for (int64_t v = version + 1; v <= kSqliteSchemaVersion; ++v) {
      RETURN_IF_ERROR(c.exec(kMigrations[v - 1]));
    }
    if (version < kSqliteSchemaVersion) {
      static constexpr const char* kSet =
          "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)"
          " ON CONFLICT (key) DO UPDATE SET value = excluded.value";
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c.prepare(kSet));
      Query q(c, stmt);
      q.bind(1, std::to_string(kSqliteSchemaVersion));
      RETURN_IF_ERROR(q.run());
    }
    return Status::Ok();
  };
  Status s = body();
  if (!s.ok()) {
    (void)c.exec("ROLLBACK");
    return s;
  }
  return c.exec("COMMIT");
}

// Creates the private temporary file behind an anonymous (":memory:") store.
Result<std::string> makeAnonymousPath() {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  std::string pattern = (dir / "privlink-store-XXXXXX").string();
  int fd = mkstemp(pattern.data());
  if (fd < 0) return Status::Internal("cannot create a temporary store file in " + dir.string());
  close(fd);
  return pattern;
}

void removeDatabaseFiles(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix, ec);
  }
}

Status internalFromException(const char* what) {
  return Status::Internal(std::string("a store transaction threw: ") + what);
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const SqliteOptions& options) {
  if (options.path.empty()) {
    return Status::InvalidArgument("InvalidStorePath",
                                   "no store path given; pass a file path or \":memory:\"");
  }
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore());
  if (options.path == ":memory:") {
    ASSIGN_OR_RETURN(store->path_, makeAnonymousPath());
    store->anonymous_ = true;
  } else {
    store->path_ = options.path;
  }
  ASSIGN_OR_RETURN(store->writer_, SqliteConnection::open(store->path_, /*reader=*/false,
                                                          /*durable=*/!store->anonymous_));
  RETURN_IF_ERROR(migrate(*store->writer_, store->path_));
  ASSIGN_OR_RETURN(store->committed_, lastRevision(*store->writer_));
  store->change_retention_ = std::max<int64_t>(1, options.changeRetention);
  {
    static constexpr const char* kOldest = "SELECT COALESCE(MIN(revision), 1) - 1 FROM changes";
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, store->writer_->prepare(kOldest));
    Query q(*store->writer_, stmt);
    ASSIGN_OR_RETURN(bool row, q.step());
    if (row) store->pruned_through_ = q.integer(0);
  }
  return store;
}

SqliteStore::~SqliteStore() {
  idle_readers_.clear();
  writer_.reset();
  if (anonymous_) removeDatabaseFiles(path_);
}

Result<std::unique_ptr<SqliteConnection>> SqliteStore::acquireReader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      auto c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return c;
    }
  }
  return SqliteConnection::open(path_, /*reader=*/true, /*durable=*/!anonymous_);
}

void SqliteStore::releaseReader(std::unique_ptr<SqliteConnection> connection) {
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(connection));
}

Status SqliteStore::write(const std::function<Status(Transaction&)>& fn) {
  if (writer_thread_.load() == std::this_thread::get_id()) {
    return Status::Internal("Store::write called inside another write on the same thread");
  }
  std::lock_guard lock(writer_mu_);
  writer_thread_.store(std::this_thread::get_id());
  struct ClearOwner {
    std::atomic<std::thread::id>& owner;
    ~ClearOwner() { owner.store(std::thread::id()); }
  } clearOwner{writer_thread_};

  int64_t base;
  {
    std::lock_guard revisionLock(revision_mu_);
    base = committed_;
  }
  RETURN_IF_ERROR(writer_->exec("BEGIN IMMEDIATE"));
  WriteTransaction tx(*writer_, base);
  Status result;
  try {
    result = fn(tx);
  } catch (const std::exception& e) {
    result = internalFromException(e.what());
  } catch (...) {
    result = internalFromException("an unknown exception");
  }
  if (result.ok() && !tx.failed().ok()) result = tx.failed();
  if (!result.ok()) {
    (void)writer_->exec("ROLLBACK");
    return result;
  }
  if (tx.changes() == 0) return writer_->exec("COMMIT");
  // Prune the change feed in the same transaction, a batch at a time (see SqliteOptions).
  const int64_t pruneThrough = base + tx.changes() - change_retention_;
  const bool prune = pruneThrough - pruned_through_ >= std::max<int64_t>(1, change_retention_ / 10);
  if (prune) {
    static constexpr const char* kPrune = "DELETE FROM changes WHERE revision <= ?1";
    auto pruned = [&]() -> Status {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, writer_->prepare(kPrune));
      Query q(*writer_, stmt);
      q.bind(1, pruneThrough);
      return q.run();
    }();
    if (!pruned.ok()) {
      (void)writer_->exec("ROLLBACK");
      return pruned;
    }
  }
  Status committed = writer_->exec("COMMIT");
  if (!committed.ok()) {
    // COMMIT can fail (disk full, I/O error) and leave the transaction open; make sure it is gone.
    if (!sqlite3_get_autocommit(writer_->db())) (void)writer_->exec("ROLLBACK");
    return committed;
  }
  if (prune) pruned_through_ = pruneThrough;
  {
    std::lock_guard revisionLock(revision_mu_);
    committed_ = base + tx.changes();
  }
  revision_cv_.notify_all();
  return Status::Ok();
}

Status SqliteStore::read(const std::function<Status(ReadView&)>& fn) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> c, acquireReader());
  RETURN_IF_ERROR(c->exec("BEGIN"));
  Status result;
  // The first SELECT fixes the snapshot; its revision is the view's revision.
  auto revision = lastRevision(*c);
  if (!revision.ok()) {
    result = revision.status();
  } else {
    SnapshotView view(*c, revision.value());
    try {
      result = fn(view);
    } catch (const std::exception& e) {
      result = internalFromException(e.what());
    } catch (...) {
      result = internalFromException("an unknown exception");
    }
  }
  Status ended = c->exec("COMMIT");
  if (ended.ok()) releaseReader(std::move(c));  // else drop the connection rather than reuse it
  return result.ok() ? ended : result;
}

Result<std::vector<Change>> SqliteStore::changesSince(int64_t after, size_t limit) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> c, acquireReader());
  static constexpr const char* kSql =
      "SELECT revision, kind, key, id, type, body FROM changes"
      " WHERE revision > ?1 ORDER BY revision LIMIT ?2";
  std::vector<Change> out;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c->prepare(kSql));
    Query q(*c, stmt);
    int64_t cap = limit > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(limit);
    q.bind(1, after).bind(2, cap);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) break;
      Change change;
      change.revision = q.integer(0);
      change.kind = q.text(1) == "delete" ? ChangeKind::kDelete : ChangeKind::kPut;
      change.key = q.text(2);
      change.id = q.text(3);
      change.type = q.text(4);
      if (!q.isNull(5)) {
        ASSIGN_OR_RETURN(change.body, parseBody(q.text(5), change.key));
      }
      out.push_back(std::move(change));
    }
  }
  releaseReader(std::move(c));
  return out;
}

int64_t SqliteStore::revision() {
  std::lock_guard lock(revision_mu_);
  return committed_;
}

int64_t SqliteStore::waitForChange(int64_t after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(revision_mu_);
  revision_cv_.wait_for(lock, timeout, [&] { return committed_ > after; });
  return committed_;
}

Result<std::unique_ptr<Store>> openSqliteStore(const SqliteOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::open(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace privlink::store
