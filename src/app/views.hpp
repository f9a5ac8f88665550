#pragma once

// What operators read from the state database: the pass record, the
// queue, a job's history and the status. store::SqliteStore returns them.

#include "app/audit_log.hpp"
#include "core/health.hpp"
#include "core/job.hpp"
#include "core/member.hpp"
#include "core/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vtc::app {

// A pass as recorded for `status`.
struct PassRecord
{
  core::TimeNs started = 0;
  core::TimeNs finished = 0;
  int exit_code = 0;
  std::int64_t entries = 0;
  std::int64_t jobs_created = 0;
  std::int64_t jobs_superseded = 0;
  std::int64_t recovered = 0;
  std::int64_t sent = 0;
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;
};

// One live job as listed by `queue list`.
struct JobRow
{
  std::string id;
  core::JobKind kind = core::JobKind::publish;
  core::JobState state = core::JobState::pending;
  std::int64_t attempts = 0;
  core::TimeNs due = 0;
  bool rtbf = false;
  std::int64_t event_line = 0;
  std::string target_hash; // identifies the member without its DID
  std::string last_error;
  std::int64_t seq = 0; // orders ties in due: the member's id
};

// Filters and paging for listing jobs. Rows come in due order, then by seq.
struct JobQuery
{
  std::optional<core::JobState> state; // nullopt = all
  std::optional<core::JobKind> kind;
  std::optional<std::string> member_did;
  // Resume after this (due, seq) position: paging that stays stable while
  // passes add and remove jobs.
  std::optional<std::pair<core::TimeNs, std::int64_t>> after;
  std::int64_t limit = 100;
};

// One request sent for a job (the attempt history).
struct AttemptRow
{
  std::int64_t n = 0;
  core::TimeNs started = 0;
  std::optional<core::TimeNs> finished;
  std::string method;
  std::string idempotency_key;
  std::optional<int> http_status;
  std::string cls; // answer class, "interrupted", "" while in flight
  std::string error;
};

// An outcome as stored (vtc-sync(1), outcomes list).
struct OutcomeRow
{
  std::int64_t seq = 0;
  core::TimeNs at = 0;
  std::string kind;
  std::string job_id;
  std::int64_t attempts = 0;
  std::string key_id;
  std::string target_hash;
  std::string detail;     // JSON object text or ""
  std::string generation; // the database's generation id
};

// A job with its history, for `queue show`.
struct JobDetail
{
  bool live = false; // false: the job ended; only its history remains
  JobRow job;
  std::int64_t retries = 0;
  std::vector<AttemptRow> attempts;
  std::vector<OutcomeRow> outcomes;
};

// What an operator's change did to each job it named.
enum class JobChange { done, not_found, wrong_state };

// Everything `status` shows from the database.
struct StatusView
{
  std::optional<Cursor> cursor;
  std::int64_t pending = 0;
  std::int64_t in_flight = 0;
  std::int64_t failed = 0;
  std::int64_t members_active = 0;
  std::int64_t members_departed = 0;
  std::int64_t invalid_events = 0;
  std::int64_t unattributable = 0;
  std::int64_t unattributable_removals = 0;
  std::optional<core::TimeNs> oldest_due; // among pending jobs due now
  std::optional<PassRecord> last_pass;
  // When the last recorded pass that exited 0 ended (idle passes record
  // nothing).
  std::optional<core::TimeNs> last_success;
  // Requests answered since the database was created, by answer class
  // ("success", "transient", ...), in name order.
  std::vector<std::pair<std::string, std::int64_t>> requests;
  std::optional<AuditFailure> audit_failure; // where the walk stopped
  std::string generation;
  core::Health health;
  std::optional<core::TimeNs> pause_until; // a 429 pause
};

} // namespace vtc::app
