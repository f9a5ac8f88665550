#pragma once

// Internal to store/: the private state of SqliteStore, shared by the
// files that implement it.

#include "store/connection.hpp"
#include "store/sqlite_store.hpp"

namespace vtc::store {

struct SqliteStore::Impl
{
  std::string path;
  const app::Clock& clock;
  // Declared before the statements: a Database must outlive them.
  std::unique_ptr<SQLite::Database> db;

  Impl(std::string p, const app::Clock& c) : path(std::move(p)), clock(c) {}

  // Appends an outcome row stamped with the clock; returns its seq.
  std::int64_t add_outcome(const app::Outcome& o);
  std::int64_t upsert_member(const app::WalkBatch::Change& change);
  void supersede(std::int64_t member_id, std::int64_t& superseded);
};

} // namespace vtc::store
