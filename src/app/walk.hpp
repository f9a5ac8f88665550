#pragma once

#include "app/ports.hpp"
#include "core/policy.hpp"

#include <functional>
#include <optional>
#include <string>

namespace vtc::app {

struct WalkOptions
{
  // The registry policy, read when the walk first needs it (there are new bytes
  // to walk); nullptr when it cannot be read: the walk then does not run, since
  // a removal could be resolved irreversibly wrong.
  std::function<const core::Policy*()> policy = [] {
    static const core::Policy k_defaults;
    return &k_defaults;
  };
  std::int64_t rtbf_window_hours = 24;
  // Entries per transaction. A first walk writes pages all over the file,
  // and each commit writes every page its batch touched: larger batches
  // write each page fewer times, until the pages a batch dirties outgrow
  // SQLite's page cache and it writes them out mid-batch too (past about
  // 100,000 entries of a 100,000-member first walk). A batch holds nothing
  // in memory beyond that cache, and takes well under a second in a first
  // walk, which bounds how long a deadline or SIGTERM waits for its end.
  std::int64_t batch_size = 100000;
  // The id of the job that retires a rotated-away DID's record,
  // "retire:<hash>" (RecordBuilder::retire_job_id).
  std::function<std::string(const std::string& did)> retire_job_id;
  // Polled at batch boundaries: true ends the walk there (deadline, signal).
  std::function<bool()> should_stop = [] { return false; };
  // Called with each change just before and just after it is written,
  // inside its batch's transaction (a dry run lists the jobs the walk
  // supersedes and creates); either may be empty.
  std::function<void(const WalkChange&)> before_apply;
  std::function<void(const WalkChange&)> after_apply;
};

struct WalkResult
{
  std::int64_t entries = 0;
  std::int64_t legacy = 0;
  std::int64_t jobs_created = 0;
  std::int64_t jobs_superseded = 0;
  std::int64_t dids_forgotten = 0; // see BatchResult
  // Bytes of the log after the last entry walked (AuditLog::lag_bytes()).
  std::uint64_t lag_bytes = 0;
  bool complete = false;               // reached the end of the log
  bool incomplete_tail = false;        // a final line without LF is waiting
  bool stopped_early = false;          // should_stop() ended it
  bool policy_blocked = false;         // the policy could not be read: no walk
  std::optional<AuditFailure> failure; // verification failure/discontinuity
};

// "audit log PATH line N (event ID): reason: detail", the one line that
// names a verification failure wherever it is reported.
std::string describe(const AuditFailure& failure);

// Reads the log past the stored cursor, verifying every entry, and turns
// membership events into member state, jobs and outcomes (vtc-sync(1),
// THE AUDIT LOG and MEMBERS AND JOBS). Commits every `batch_size` entries
// together with the cursor, so a crash neither loses nor repeats an entry.
// Stops before a bad entry and records where. Throws StoreError (74) and
// AuditError (74).
WalkResult walk(AuditLog& log, WalkStore& store, const Clock& clock,
                const WalkOptions& options);

} // namespace vtc::app
