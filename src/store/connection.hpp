#pragma once

// Internal to store/: the SQLiteCpp connection and helpers shared by the
// store's source files. Not included outside src/store.

#include "store/sqlite_store.hpp"
#include "util/error.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace vtc::store::detail {

// Opens the connection with the pragmas of docs/design.md, State database,
// checks the schema version, creates the schema in an empty database (pass
// and scratch modes), then checks or records the binding.
std::unique_ptr<SQLite::Database> open_connection(const std::string& path,
                                                  OpenMode mode,
                                                  const Binding& binding);

// A read-only connection to `path` in an open read transaction: while it
// is held, what a scratch connection (store/overlay_vfs.hpp) opened after
// it reads stays what it was. Null when the file does not exist.
std::unique_ptr<SQLite::Database> hold_snapshot(const std::string& path);

// A new generation id: 32 random hex digits. Each database and each copy
// of one made by `backup` has its own.
std::string random_generation();

// Reads and writes the `meta` key-value table.
std::optional<std::string> meta_get(SQLite::Database& db, const char* key);
void meta_set(SQLite::Database& db, const char* key, const std::string& value);
void meta_erase(SQLite::Database& db, const char* key);
// Copies every page of `from` into `to` in one step, so inside one read
// transaction: a consistent snapshot even while a pass commits. Throws
// StoreError naming `path` (the source) otherwise.
void copy_pages(SQLite::Database& to, SQLite::Database& from,
                const std::string& path);

// A meta value holding JSON; nullopt when absent. Throws StoreError when it
// is not valid JSON.
std::optional<nlohmann::json> meta_json(SQLite::Database& db, const char* key);

// Runs `f`, turning SQLite exceptions into StoreError (74) naming `path`.
template<class F>
auto guarded(const std::string& path, F&& f) -> decltype(f())
{
  try {
    return f();
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("state database {}: {}", path, e.what()));
  }
}

// A BEGIN IMMEDIATE transaction: the write lock is taken up front, so a
// reader upgrading to writer can never deadlock. Rolls back unless
// committed.
class WriteTransaction
{
public:
  explicit WriteTransaction(SQLite::Database& db)
    : m_tx(db, SQLite::TransactionBehavior::IMMEDIATE)
  {
  }
  void commit() { m_tx.commit(); }

private:
  SQLite::Transaction m_tx;
};

} // namespace vtc::store::detail
