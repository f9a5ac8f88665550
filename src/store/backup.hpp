#pragma once

#include "store/sqlite_store.hpp"

#include <string>

namespace vtc::store {

// Copies the state database at `db_path` to the new file `target`: one
// consistent snapshot taken with SQLite's online backup API, safe while a
// pass writes (a reader never blocks a WAL writer). The copy is written to
// a temporary file in the target's directory, synced, and only then linked
// at `target` (mode 0600: it holds the DIDs of members not yet forgotten),
// so a crash never leaves a half copy there. The copy gets a new generation
// id, which is returned.
//
// Throws UsageError (64) when `target` exists (checked first and again,
// atomically, when linking), NoInputError (66) when `db_path` does not
// exist (nothing is created), ConfigError (78) for an empty database, a
// schema version other than the binary's or another binding, StoreError (74) on
// SQLite failures and IoError (74) on file failures.
std::string backup(const std::string& db_path, const Binding& binding,
                   const std::string& target);

} // namespace vtc::store
