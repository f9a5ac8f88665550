#pragma once

// What the store's unit tests share: a store on a fresh file, and the walk
// batches, ids and queries they build their cases from.

#include "binding.hpp"
#include "fake_clock.hpp"
#include "store/sqlite_store.hpp"
#include "temp_dir.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vtc::test {

// A store in pass mode on state.db in a fresh directory.
struct StoreFixture
{
  TempDir dir;
  std::string path = dir.file("state.db");
  FakeClock clock{1'000'000};
  store::SqliteStore s{path, store::OpenMode::pass, binding(), clock};
};

// A job id of the tests, "j" and one hex digit, as the UUID it stands for.
std::string J(char c);

// The audit key the entries of the tests carry.
extern const std::string k_key_id;

// The target hash of `did` (a stand-in for HMAC(key, DID)).
std::string hash_of(const std::string& did);

// A cursor at `line`, with made-up offsets and file identity.
app::Cursor cursor_at(std::int64_t line);

// One member change with a job, as the walk would hand it over.
app::WalkChange change(const std::string& did, core::MemberStatus status,
                       const std::string& job_id, core::JobKind kind,
                       core::TimeNs due, std::int64_t line);

// A walk batch: its changes, then the cursor they commit with.
struct Batch
{
  std::vector<app::WalkChange> changes;
  app::Cursor cursor;
};
Batch batch(std::vector<app::WalkChange> changes, std::int64_t cursor_line);

// Appends a batch entry that records only an outcome (no member).
void outcome_only(Batch& b, app::Outcome o);

// Writes a batch as the walk does: in one transaction, then the cursor.
app::BatchResult write_batch(store::SqliteStore& s, const Batch& b);

// The walk of a log whose line 2 adds Alice: her publish job J('1').
void walk_alice(store::SqliteStore& s);

// The ids of `rows`, in their order.
std::vector<std::string> job_ids(const std::vector<app::JobRow>& rows);

// A job listing filtered by state only.
app::JobQuery query(std::optional<core::JobState> state, std::int64_t limit);

struct OutcomeRow
{
  std::string kind;
  std::string job_id;
  std::int64_t attempts;
  std::string key_id;
  std::string target_hash;
  std::string detail;
};

// The outcomes as the store reads them back (ids and hashes as text), on
// a read-only connection of its own.
std::vector<OutcomeRow> outcomes(const std::string& path);

// Runs `statement` on a connection of its own: an edit behind the store's
// back.
void sql(const std::string& path, const std::string& statement);

// The first column of `query`'s first row, on a read-only connection.
std::int64_t count(const std::string& path, const std::string& query);

} // namespace vtc::test
