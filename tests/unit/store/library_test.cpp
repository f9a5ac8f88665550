// Alone in its process: how the store sets SQLite up must happen before
// SQLite first initialises, which any other test would do first.

#include "binding.hpp"
#include "store/connection.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

TEST_CASE("store: connections run without SQLite's mutexes and statistics")
{
  REQUIRE(sqlite3_memory_used() == 0);
  auto db = vtc::store::detail::open_connection(
    ":memory:", vtc::store::OpenMode::pass, vtc::test::binding());
  // The schema is there: SQLite did allocate.
  CHECK(db->execAndGet("SELECT count(*) FROM sqlite_schema").getInt() > 5);
  // Multi-thread mode: a connection has no mutex of its own.
  CHECK(sqlite3_db_mutex(db->getHandle()) == nullptr);
  // No memory statistics: allocations are not counted.
  CHECK(sqlite3_memory_used() == 0);
  CHECK(sqlite3_threadsafe() != 0); // the library could; it was told not to
}
