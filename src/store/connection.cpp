#include "store/connection.hpp"
#include "store/overlay_vfs.hpp"

#include "store/codec.hpp"
#include "store/schema.hpp"
#include "util/log.hpp"

#include <SQLiteCpp/Backup.h>

#include <malloc.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <array>
#include <random>

namespace vtc::store::detail {

std::string random_generation()
{
  std::random_device rd;
  std::array<std::uint32_t, 4> words{};
  for (auto& w : words) {
    w = rd();
  }
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", words[0], words[1], words[2],
                     words[3]);
}

namespace {

bool exists(const std::string& path)
{
  struct stat st = {};
  return ::stat(path.c_str(), &st) == 0;
}

int user_version(SQLite::Database& db)
{
  return db.execAndGet("PRAGMA user_version").getInt();
}

// What the file holds: the current schema, nothing yet (a new file, or one
// whose creation a crash rolled back), or a version this binary cannot use.
enum class Schema { current, empty };

// Throws ConfigError (78) naming `path` unless the schema is current, or
// the database empty and `may_create`.
Schema check_schema(SQLite::Database& db, const std::string& path,
                    bool may_create)
{
  const int have = user_version(db);
  const int want = current_schema_version();
  if (have == want) {
    return Schema::current;
  }
  if (have > want) {
    throw ConfigError(fmt::format(
      "state database {}: schema version {} is newer than this vtc-sync "
      "supports ({}); upgrade vtc-sync",
      path, have, want));
  }
  const bool empty =
    have == 0 &&
    db.execAndGet("SELECT count(*) FROM sqlite_schema").getInt() == 0;
  if (!empty) {
    // No release of vtc-sync wrote an older version: nothing to upgrade.
    throw ConfigError(fmt::format(
      "state database {}: schema version {} is older than any this vtc-sync "
      "can open ({}); move the file away and let vtc-sync tick create a new "
      "one",
      path, have, want));
  }
  if (!may_create) {
    throw ConfigError(fmt::format(
      "state database {} has no schema yet (vtc-sync tick creates it)", path));
  }
  return Schema::empty;
}

void create_schema(SQLite::Database& db)
{
  WriteTransaction tx(db);
  db.exec(std::string(schema_script()));
  db.exec(fmt::format("PRAGMA user_version = {}", current_schema_version()));
  meta_set(db, "generation", random_generation());
  tx.commit();
}

// The registry URL text whose origin was last checked against the binding.
constexpr const char* k_verified_url = "bind.registry.url.verified";

void check_binding(SQLite::Database& db, const std::string& path,
                   const Binding& b, bool may_write)
{
  // The same URL text always has the same origin: parse it (and load the
  // URL parser) only when the configuration names another one.
  const bool url_verified = meta_get(db, k_verified_url) == b.registry_url;
  const std::string origin = url_verified ? "" : b.origin_of(b.registry_url);
  const std::array<std::pair<const char*, const std::string*>, 5> fields{{
    {"vtc.did", &b.vtc_did},
    {"registry.url", url_verified ? nullptr : &origin},
    {"registry.action", &b.action},
    {"registry.resource", &b.resource},
    {"registry.record_type", &b.record_type},
  }};
  bool missing = false;
  for (const auto& [key, value] : fields) {
    if (value == nullptr) {
      continue; // checked when it was verified
    }
    const auto stored = meta_get(db, (std::string("bind.") + key).c_str());
    if (!stored) {
      missing = true;
      continue;
    }
    if (*stored != *value) {
      throw ConfigError(fmt::format(
        "state database {} is bound to {} '{}', not '{}' (use the database of "
        "that community, or a new one)",
        path, key, *stored, *value));
    }
  }
  if ((missing || !url_verified) && may_write) {
    WriteTransaction tx(db);
    for (const auto& [key, value] : fields) {
      if (value == nullptr) {
        continue;
      }
      SQLite::Statement st(
        db, "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)");
      detail::bind(st, std::string("bind.") + key, *value);
      st.exec();
    }
    meta_set(db, k_verified_url, b.registry_url);
    tx.commit();
  }
}

} // namespace

std::optional<std::string> meta_get(SQLite::Database& db, const char* key)
{
  SQLite::Statement st(db, "SELECT value FROM meta WHERE key = ?");
  detail::bind(st, key);
  if (!st.executeStep()) {
    return std::nullopt;
  }
  return st.getColumn(0).getString();
}

void meta_set(SQLite::Database& db, const char* key, const std::string& value)
{
  SQLite::Statement st(db,
                       "INSERT INTO meta(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  detail::bind(st, key, value);
  st.exec();
}

void copy_pages(SQLite::Database& to, SQLite::Database& from,
                const std::string& path)
{
  SQLite::Backup step(to, from);
  const int rc = step.executeStep(-1);
  if (rc != SQLITE_DONE) {
    throw StoreError(
      fmt::format("state database {}: backup: {}", path, sqlite3_errstr(rc)));
  }
}

std::optional<nlohmann::json> meta_json(SQLite::Database& db, const char* key)
{
  const auto text = meta_get(db, key);
  if (!text) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    throw StoreError(fmt::format("meta value {} is not valid JSON", key));
  }
  return j;
}

void meta_erase(SQLite::Database& db, const char* key)
{
  SQLite::Statement st(db, "DELETE FROM meta WHERE key = ?");
  detail::bind(st, key);
  st.exec();
}

std::unique_ptr<SQLite::Database> hold_snapshot(const std::string& path)
{
  if (!exists(path)) {
    return nullptr;
  }
  auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY |
                                                       SQLITE_OPEN_NOFOLLOW);
  db->setBusyTimeout(5000);
  db->exec("BEGIN");
  db->execAndGet("SELECT count(*) FROM sqlite_schema"); // the read starts
  return db;
}

namespace {

// Debian builds SQLite serialized, with memory statistics: every call on a
// connection takes its mutex, and every allocation a global one to count
// itself. vtc-sync uses a connection from one thread only and reads no
// statistics, so both are off: about 12% less CPU in a walk. sqlite3_config()
// works only before SQLite initialises, so this runs before the process's
// first connection; called later it changes nothing.
//
// glibc gives free memory at the heap's top back to the kernel once it
// passes 128 KiB. When every walked UPDATE built and freed an ephemeral
// table (for a CHECK with an IN list; see store/schema.cpp), that cost two
// brk calls each: 132,000 in a 300,000-entry walk, more than half its
// time. Now the walk frees little at once (a 1,000,000-entry walk makes 937 brk
// calls without this setting, 257 with it, in the same time), and the heap
// keeps up to 32 MiB free in case a statement does.
//
// Setting the trim threshold also freezes the size above which glibc maps
// an allocation of its own at 128 KiB: each page of a VTC's audit log
// (about 130 KiB of answer) was then mapped, faulted in and unmapped again,
// a third of a REST walk's CPU. Up to 4 MiB now comes from the heap.
void configure_library()
{
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    return true;
  }();
  (void)configured;
}

// tick --dry-run's connection: every write stays in memory
// (store/overlay_vfs.hpp).
std::unique_ptr<SQLite::Database> open_scratch(const std::string& path,
                                               const Binding& binding)
{
  auto db = std::make_unique<SQLite::Database>(
    path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 0, overlay_vfs());
  // Before the first read: the WAL index in memory, no file locks.
  db->exec("PRAGMA locking_mode = EXCLUSIVE");
  db->exec("PRAGMA foreign_keys = ON");
  if (check_schema(*db, path, true) == Schema::empty) {
    create_schema(*db);
  }
  check_binding(*db, path, binding, true);
  return db;
}

// The settings of a pass's connection, and of the file.
void set_pass_pragmas(SQLite::Database& db)
{
  // WAL is a property of the file: set once, by the writer that creates
  // it.
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  // A first walk touches member, key and job pages all over the file: a
  // larger page cache (the default is 2 MiB) saves most re-reads.
  db.exec("PRAGMA cache_size = -32768");
  // Checkpoint every 32 MiB of WAL rather than 4 MiB: fewer fsyncs, and a
  // page several batches change is copied back once.
  db.exec("PRAGMA wal_autocheckpoint = 8192");
}

int open_flags(OpenMode mode)
{
  switch (mode) {
  case OpenMode::pass:
    return SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLITE_OPEN_NOFOLLOW;
  case OpenMode::read_write:
    return SQLite::OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW;
  case OpenMode::read_only:
  case OpenMode::scratch:
    break;
  }
  return SQLite::OPEN_READONLY | SQLITE_OPEN_NOFOLLOW;
}

} // namespace

std::unique_ptr<SQLite::Database> open_connection(const std::string& path,
                                                  OpenMode mode,
                                                  const Binding& binding)
{
  configure_library();
  if (mode == OpenMode::scratch) {
    return guarded(path, [&] { return open_scratch(path, binding); });
  }
  const bool missing = path != ":memory:" && !exists(path);
  if (missing && mode != OpenMode::pass) {
    throw NoInputError(fmt::format(
      "state database {} does not exist (vtc-sync tick creates it)", path));
  }
  if (missing) {
    // A configuration that would be refused must not create the database.
    binding.origin_of(binding.registry_url);
  }
  return guarded(path, [&] {
    auto db = std::make_unique<SQLite::Database>(path, open_flags(mode));
    db->setBusyTimeout(5000);
    db->exec("PRAGMA foreign_keys = ON");
    db->exec("PRAGMA secure_delete = ON");
    // Checked first: a file refused is left as it was.
    const Schema schema = check_schema(*db, path, mode == OpenMode::pass);
    if (mode == OpenMode::pass) {
      set_pass_pragmas(*db);
      if (schema == Schema::empty) {
        create_schema(*db);
      }
    } else {
      db->exec("PRAGMA synchronous = NORMAL");
    }
    check_binding(*db, path, binding, mode == OpenMode::pass);
    return db;
  });
}

} // namespace vtc::store::detail
