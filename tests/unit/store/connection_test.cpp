// Opening the state database: creation, pragmas, the binding and the
// schema version (store/connection.cpp).

#include "store/schema.hpp"
#include "store_fixture.hpp"
#include "util/error.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>

using namespace vtc;
using namespace vtc::test;

namespace {

// Every connection the process opens, so the test can read the store's own
// connection-level pragmas.
sqlite3* g_last_connection = nullptr;

extern "C" int capture_connection(sqlite3* db, const char** /*err*/,
                                  const sqlite3_api_routines* /*api*/)
{
  g_last_connection = db;
  return SQLITE_OK;
}

std::string pragma_text(sqlite3* db, const char* sql)
{
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto* text = sqlite3_column_text(st, 0);
  std::string out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
  sqlite3_finalize(st);
  return out;
}

std::size_t entries_in(const std::string& dir)
{
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  return n;
}

} // namespace

TEST_CASE("store: creation sets the schema version, WAL and the pragmas")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  sqlite3_auto_extension(reinterpret_cast<void (*)()>(capture_connection));
  g_last_connection = nullptr;
  store::SqliteStore s(path, store::OpenMode::pass, binding(), clock);
  sqlite3* own = g_last_connection;
  sqlite3_cancel_auto_extension(
    reinterpret_cast<void (*)()>(capture_connection));
  REQUIRE(own != nullptr);

  CHECK(store::current_schema_version() >= 1);
  CHECK(s.schema_version() == store::current_schema_version());

  // The store's own connection settings (docs/design.md, State database).
  CHECK(pragma_text(own, "PRAGMA foreign_keys") == "1");
  CHECK(pragma_text(own, "PRAGMA secure_delete") == "1");
  CHECK(pragma_text(own, "PRAGMA synchronous") == "1"); // NORMAL
  CHECK(pragma_text(own, "PRAGMA busy_timeout") == "5000");
  CHECK(pragma_text(own, "PRAGMA journal_mode") == "wal");

  // File settings, seen from another connection.
  SQLite::Database other(path, SQLite::OPEN_READONLY);
  CHECK(other.execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(other.execAndGet("PRAGMA user_version").getInt() ==
        store::current_schema_version());
  for (const char* table : {"members", "jobs", "outcomes", "meta"}) {
    CAPTURE(table);
    SQLite::Statement st(other,
                         "SELECT strict FROM pragma_table_list WHERE name = ?");
    st.bind(1, table);
    REQUIRE(st.executeStep());
    CHECK(st.getColumn(0).getInt() == 1);
  }
  SQLite::Statement bound(other, "SELECT value FROM meta WHERE key = ?");
  bound.bind(1, "bind.vtc.did");
  REQUIRE(bound.executeStep());
  CHECK(bound.getColumn(0).getString() == binding().vtc_did);

  const auto status = s.status(0);
  CHECK(status.generation.size() == 32);
  CHECK(status.generation.find_first_not_of("0123456789abcdef") ==
        std::string::npos);
  CHECK_FALSE(status.cursor.has_value());
}

TEST_CASE("store: a fresh database per file gets its own generation")
{
  test::TempDir dir;
  test::FakeClock clock{1'000'000};
  store::SqliteStore a(dir.file("a.db"), store::OpenMode::pass, binding(),
                       clock);
  store::SqliteStore b(dir.file("b.db"), store::OpenMode::pass, binding(),
                       clock);
  CHECK(a.status(0).generation != b.status(0).generation);
}

TEST_CASE("store: reopening with another binding is refused naming the key")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  {
    store::SqliteStore s(path, store::OpenMode::pass, binding(), clock);
  }

  struct Case
  {
    const char* key;
    std::string store::Binding::*field;
  };
  const std::vector<Case> cases{
    {"vtc.did", &store::Binding::vtc_did},
    {"registry.url", &store::Binding::registry_url},
    {"registry.action", &store::Binding::action},
    {"registry.resource", &store::Binding::resource},
    {"registry.record_type", &store::Binding::record_type},
  };
  for (const auto& c : cases) {
    for (const auto mode : {store::OpenMode::pass, store::OpenMode::read_write,
                            store::OpenMode::read_only}) {
      CAPTURE(c.key);
      CAPTURE(static_cast<int>(mode));
      store::Binding other = binding();
      other.*c.field += "-other";
      bool thrown = false;
      try {
        store::SqliteStore s(path, mode, other, clock);
      } catch (const ConfigError& e) {
        thrown = true;
        CHECK(std::string(e.what()).find(c.key) != std::string::npos);
        CHECK(e.code() == ExitCode::config);
      }
      CHECK(thrown);
    }
  }
  // Control: the same binding opens in every mode.
  for (const auto mode : {store::OpenMode::pass, store::OpenMode::read_write,
                          store::OpenMode::read_only}) {
    CHECK_NOTHROW(store::SqliteStore(path, mode, binding(), clock));
  }
}

TEST_CASE("store: a registry URL is parsed only when its text is new")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  int parsed = 0;
  store::Binding b = binding();
  b.origin_of = [&](const std::string& url) {
    ++parsed;
    return url.substr(0, url.find('/', std::string("https://").size()));
  };
  b.registry_url = "https://registry.example:443/";
  {
    store::SqliteStore s(path, store::OpenMode::pass, b, clock);
  }
  const int at_creation = parsed;
  CHECK(at_creation >= 1);
  // The same text again: no parse, in every mode.
  for (const auto mode : {store::OpenMode::pass, store::OpenMode::read_write,
                          store::OpenMode::read_only}) {
    CAPTURE(static_cast<int>(mode));
    CHECK_NOTHROW(store::SqliteStore(path, mode, b, clock));
    CHECK(parsed == at_creation);
  }
  // Another text with the same origin: parsed, accepted, and remembered by
  // a pass (only a pass writes).
  b.registry_url = "https://registry.example:443/other/";
  CHECK_NOTHROW(store::SqliteStore(path, store::OpenMode::read_only, b, clock));
  CHECK(parsed == at_creation + 1);
  CHECK_NOTHROW(store::SqliteStore(path, store::OpenMode::pass, b, clock));
  CHECK(parsed == at_creation + 2);
  CHECK_NOTHROW(store::SqliteStore(path, store::OpenMode::read_only, b, clock));
  CHECK(parsed == at_creation + 2);
  // A text with another origin is refused, and stays refused.
  b.registry_url = "https://elsewhere.example:443/";
  for (int i = 0; i < 2; ++i) {
    CHECK_THROWS_AS(store::SqliteStore(path, store::OpenMode::pass, b, clock),
                    ConfigError);
  }
  CHECK(parsed == at_creation + 4);
}

TEST_CASE("store: opening a missing database outside a pass creates nothing")
{
  test::TempDir dir;
  test::FakeClock clock{1'000'000};
  for (const auto mode :
       {store::OpenMode::read_only, store::OpenMode::read_write}) {
    CAPTURE(static_cast<int>(mode));
    bool thrown = false;
    try {
      store::SqliteStore s(dir.file("state.db"), mode, binding(), clock);
    } catch (const NoInputError& e) {
      thrown = true;
      CHECK(e.code() == ExitCode::no_input);
      CHECK(std::string(e.what()).find(dir.file("state.db")) !=
            std::string::npos);
    }
    CHECK(thrown);
    CHECK(entries_in(dir.path()) == 0);
  }
}

TEST_CASE("store: a schema newer than the binary is refused")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  {
    store::SqliteStore s(path, store::OpenMode::pass, binding(), clock);
  }
  sql(path, "PRAGMA user_version = " +
              std::to_string(store::current_schema_version() + 1));
  for (const auto mode : {store::OpenMode::pass, store::OpenMode::read_write,
                          store::OpenMode::read_only}) {
    CAPTURE(static_cast<int>(mode));
    CHECK_THROWS_AS(store::SqliteStore(path, mode, binding(), clock),
                    ConfigError);
  }
  // Nothing was downgraded.
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA user_version").getInt() ==
        store::current_schema_version() + 1);
}

TEST_CASE(
  "store: an older schema version is refused in every mode, naming the file")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  {
    // Version 0 with tables: no vtc-sync wrote it.
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)");
  }
  const std::string before = test::read_file(path);
  for (const auto mode :
       {store::OpenMode::pass, store::OpenMode::scratch,
        store::OpenMode::read_write, store::OpenMode::read_only}) {
    CAPTURE(static_cast<int>(mode));
    bool thrown = false;
    try {
      store::SqliteStore s(path, mode, binding(), clock);
    } catch (const ConfigError& e) {
      thrown = true;
      CHECK(e.code() == ExitCode::config);
      const std::string what = e.what();
      CHECK(what.find(path) != std::string::npos);
      CHECK(what.find("schema version 0 is older") != std::string::npos);
    }
    CHECK(thrown);
  }
  // Left as it was: no schema created, not even WAL mode set.
  CHECK(test::read_file(path) == before);
  CHECK(count(path, "PRAGMA user_version") == 0);
  CHECK(count(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'jobs'") ==
        0);
}

TEST_CASE("store: an empty database outside a pass says tick creates it")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE t (x INTEGER); DROP TABLE t;");
  }
  for (const auto mode :
       {store::OpenMode::read_only, store::OpenMode::read_write}) {
    CAPTURE(static_cast<int>(mode));
    bool thrown = false;
    try {
      store::SqliteStore s(path, mode, binding(), clock);
    } catch (const ConfigError& e) {
      thrown = true;
      const std::string what = e.what();
      CHECK(what.find(path) != std::string::npos);
      CHECK(what.find("vtc-sync tick creates it") != std::string::npos);
    }
    CHECK(thrown);
  }
  CHECK(count(path, "SELECT count(*) FROM sqlite_schema") == 0);
}

TEST_CASE("store: a pass creates the schema in an empty database")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  {
    // What a crash leaves when it interrupts the creation: the file, no
    // schema.
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE t (x INTEGER); DROP TABLE t;");
  }
  store::SqliteStore s(path, store::OpenMode::pass, binding(), clock);
  CHECK(s.schema_version() == store::current_schema_version());
  CHECK(count(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'jobs'") ==
        1);
}

TEST_CASE("store: state persists across reopening, read-only included")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  {
    store::SqliteStore s(path, store::OpenMode::pass, binding(), clock);
    walk_alice(s);
  }
  store::SqliteStore ro(path, store::OpenMode::read_only, binding(), clock);
  CHECK(ro.cursor() == cursor_at(2));
  CHECK(job_ids(ro.jobs({})) == std::vector<std::string>{J('1')});
  CHECK(ro.status(100).pending == 1);
}

TEST_CASE("store: an in-memory database works in pass mode")
{
  test::FakeClock clock{1'000'000};
  store::SqliteStore s(":memory:", store::OpenMode::pass, binding(), clock);
  CHECK_FALSE(s.cursor().has_value());
  walk_alice(s);
  CHECK(s.cursor() == cursor_at(2));
}
