#include "store/schema.hpp"

namespace vtc::store {

namespace {

// Version 1. Hashes and key ids are kept as text in the spelling of the
// log; times are integer nanoseconds since the epoch (UTC).
constexpr std::string_view k_v1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value ANY
) STRICT, WITHOUT ROWID;

CREATE TABLE members (
  id          INTEGER PRIMARY KEY,
  did         TEXT UNIQUE,
  status      TEXT NOT NULL CHECK (status IN ('unknown','active','departed','purged')),
  role        TEXT NOT NULL DEFAULT '',
  active_from INTEGER,
  active_to   INTEGER
) STRICT;

-- Every (audit_key_id, target_did_hash) seen for a member: redacted
-- entries are matched through it (SPEC §4.5).
CREATE TABLE member_keys (
  key_id      TEXT NOT NULL,
  target_hash TEXT NOT NULL,
  member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
  PRIMARY KEY (key_id, target_hash)
) STRICT, WITHOUT ROWID;
CREATE INDEX member_keys_member ON member_keys(member_id);

-- At most one live job per member (SPEC §5.2).
CREATE TABLE jobs (
  id          TEXT PRIMARY KEY,
  member_id   INTEGER NOT NULL UNIQUE REFERENCES members(id),
  kind        TEXT NOT NULL CHECK (kind IN ('publish','update','depart','delete')),
  state       TEXT NOT NULL CHECK (state IN ('pending','in_flight','failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  retries     INTEGER NOT NULL DEFAULT 0,
  due         INTEGER NOT NULL,
  rtbf        INTEGER NOT NULL DEFAULT 0,
  event_line  INTEGER NOT NULL,
  key_id      TEXT NOT NULL,
  target_hash TEXT NOT NULL,
  created     INTEGER NOT NULL,
  last_error  TEXT NOT NULL DEFAULT ''
) STRICT;
-- The due-jobs query reads only pending rows in due order: its cost
-- follows the number of due jobs, not the queue size.
-- Ties in due order break by rowid: the order the walk created them.
CREATE INDEX jobs_due ON jobs(due) WHERE state = 'pending';
CREATE INDEX jobs_state ON jobs(state, due);

-- One row per request sent for a job (kept after the job ends).
CREATE TABLE attempts (
  job_id      TEXT NOT NULL,
  n           INTEGER NOT NULL,
  started     INTEGER NOT NULL,
  finished    INTEGER,
  method      TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT NOT NULL DEFAULT '',
  http_status INTEGER,
  class       TEXT NOT NULL DEFAULT '',
  error       TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, n)
) STRICT, WITHOUT ROWID;

-- The local mirror of the registry, per member: absent (no row), present
-- (body sent and confirmed) or unknown (a write started, not confirmed).
CREATE TABLE mirror (
  member_id INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
  state     TEXT NOT NULL CHECK (state IN ('present','unknown')),
  record_id TEXT NOT NULL DEFAULT '',
  body      TEXT NOT NULL DEFAULT '',
  updated   INTEGER NOT NULL
) STRICT;

-- Append-only outcome log (SPEC §7); never a plaintext DID.
CREATE TABLE outcomes (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  job_id      TEXT NOT NULL DEFAULT '',
  attempts    INTEGER NOT NULL DEFAULT 0,
  key_id      TEXT NOT NULL DEFAULT '',
  target_hash TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outcomes_kind ON outcomes(kind);

-- Request counters by answer class, kept across passes (metrics).
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql";

} // namespace

const std::vector<std::string_view>& migrations()
{
  static const std::vector<std::string_view> k_all{k_v1};
  return k_all;
}

int current_schema_version()
{
  return static_cast<int>(migrations().size());
}

} // namespace vtc::store
