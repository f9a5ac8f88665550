#include "store/schema.hpp"

namespace vtc::store {

namespace {

// The schema, one script until the first release (see store/schema.hpp).
// Ids and hashes are kept as bytes (a UUID in 16, a hash in 32; see
// store/codec.hpp); times are integer nanoseconds since the epoch (UTC).
// CHECK constraints compare rather than test an IN list: for an IN list of
// three or more values SQLite builds a temporary index each time it checks
// a row.
constexpr std::string_view k_schema = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value ANY
) STRICT, WITHOUT ROWID;

CREATE TABLE members (
  id          INTEGER PRIMARY KEY,
  did         TEXT UNIQUE,
  status      TEXT NOT NULL CHECK (status = 'unknown' OR status = 'active' OR status = 'departed' OR status = 'purged'),
  role        TEXT NOT NULL DEFAULT '',
  active_from INTEGER,
  active_to   INTEGER,
  -- NULL while no event has said (unknown): no bytes in most rows.
  consent     TEXT CHECK (consent = 'granted' OR consent = 'withdrawn')
) STRICT;

-- Audit key ids, referenced by number from the tables below. Rows are
-- only ever added (SqliteStore::Impl::key_ref()), so a reference cannot
-- dangle even where it is not a foreign key.
CREATE TABLE audit_keys (
  id     INTEGER PRIMARY KEY,
  key_id BLOB NOT NULL UNIQUE
) STRICT;

-- A member's target hash under each audit key it was seen with: HMAC(key,
-- DID) is one value per key. Redacted entries are matched through it (see
-- vtc-sync(1), THE AUDIT LOG), by an index on the first 8 bytes of the
-- hash, as selective as all 32 at a quarter of the size.
CREATE TABLE member_keys (
  member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
  key         INTEGER NOT NULL REFERENCES audit_keys(id),
  target_hash BLOB NOT NULL,
  PRIMARY KEY (member_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX member_keys_hash ON member_keys(substr(target_hash, 1, 8));

-- The pairs of DIDs a member rotated away from: they still name the
-- member in a redacted entry, unless member_keys gives the pair to a row
-- of its own (the old DID admitted again). Rotations are rare, so this
-- table is small and read only when member_keys has no match.
CREATE TABLE former_keys (
  member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
  key         INTEGER NOT NULL REFERENCES audit_keys(id),
  target_hash BLOB NOT NULL,
  PRIMARY KEY (member_id, key, target_hash)
) STRICT, WITHOUT ROWID;
CREATE INDEX former_keys_hash ON former_keys(substr(target_hash, 1, 8));

-- At most one live job per member row, and so per record id: the member's
-- id is the job's rowid (a rotation gives the old DID a row of its own
-- while its record is retired). `key` is the audit key of the entry that
-- made the job: with member_id it names the target hash, unless `target`
-- names it (a rotation's jobs, whose target is the old DID). `nonce` is
-- the first 8 bytes of that entry's entry_hash: with the request it
-- derives the Idempotency-Key, so that no key is ever sent with two
-- different requests, even when a log repeats an event id. It is no foreign key: SQLite checks one in an
-- UPDATE that sets its column by keeping a statement journal, a copy of
-- every page the UPDATE changes, and the walk rewrites a job for every
-- event that supersedes one.
--
-- The id of a pending job never sent is not indexed: the walk rewrites
-- it for every event that supersedes the job, and an index on random
-- UUIDs moved two entries in pages no recent event had touched, 15 to
-- 21% of a first walk's time. Dispatch, recovery and operator changes
-- reach a job by its member (the rowid); operators name a job by id
-- through jobs_id once it was sent or is not pending (the jobs they look
-- at: in flight, failed, waiting after an error), and a pending job
-- never sent by a scan (queue show). A walk superseding a job sent before
-- takes it out of jobs_id; it never puts one in.
CREATE TABLE jobs (
  member_id   INTEGER PRIMARY KEY REFERENCES members(id),
  id          BLOB NOT NULL,
  kind        TEXT NOT NULL CHECK (kind = 'publish' OR kind = 'update' OR kind = 'depart' OR kind = 'delete' OR kind = 'withdraw' OR kind = 'retire'),
  state       TEXT NOT NULL CHECK (state = 'pending' OR state = 'in_flight' OR state = 'failed'),
  attempts    INTEGER NOT NULL DEFAULT 0,
  retries     INTEGER NOT NULL DEFAULT 0,
  due         INTEGER NOT NULL,
  rtbf        INTEGER NOT NULL DEFAULT 0,
  event_line  INTEGER NOT NULL,
  key         INTEGER,
  last_error  TEXT NOT NULL DEFAULT '',
  nonce       INTEGER NOT NULL DEFAULT 0,
  target      BLOB
) STRICT;
-- The due-jobs query reads only pending rows in due order: its cost
-- follows the number of due jobs, not the queue size. Ties in due order
-- break by rowid, the member's id. In-flight and failed jobs, few, have an
-- index each: SQLite uses a partial index only for a query naming the same
-- state.
CREATE INDEX jobs_due ON jobs(due) WHERE state = 'pending';
CREATE INDEX jobs_in_flight ON jobs(due) WHERE state = 'in_flight';
CREATE INDEX jobs_failed ON jobs(due) WHERE state = 'failed';
-- A query uses it when it names the job's state: state = 'failed', say.
CREATE INDEX jobs_id ON jobs(id) WHERE state <> 'pending' OR attempts > 0;

-- One row per request sent for a job (kept after the job ends); `retry`
-- (the job's `queue retry` round) and `digest` (of the request, known once
-- it was built) make up its Idempotency-Key with the job id.
CREATE TABLE attempts (
  job_id      BLOB NOT NULL,
  n           INTEGER NOT NULL,
  started     INTEGER NOT NULL,
  finished    INTEGER,
  method      TEXT NOT NULL DEFAULT '',
  retry       INTEGER NOT NULL DEFAULT 0,
  digest      INTEGER,
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

-- Append-only outcome log; never a plaintext DID. Outcomes are indexed by
-- kind only for the kinds status counts, which are rare: superseded and
-- skipped outcomes add nothing to the index.
CREATE TABLE outcomes (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  job_id      BLOB NOT NULL DEFAULT x'',
  attempts    INTEGER NOT NULL DEFAULT 0,
  key         INTEGER REFERENCES audit_keys(id),
  target_hash BLOB NOT NULL DEFAULT x'',
  detail      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outcomes_counted ON outcomes(kind)
  WHERE kind = 'invalid_event' OR kind = 'unattributable';
-- A job's outcomes, for queue show and the checks of queue retry and
-- discard, except `superseded`: the walk records one for nearly every
-- event, and an index on random job ids would cost it a cold page each.
-- A job superseded has ended; only its own id finds that outcome, by a
-- scan (SqliteStore::job_detail).
CREATE INDEX outcomes_job ON outcomes(job_id) WHERE kind <> 'superseded';

-- Request counters by answer class, kept across passes (metrics).
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Row counts status and the metrics show: jobs by state, members by
-- status and the outcome kinds status counts. The store keeps them in the
-- transaction that changes the rows (SqliteStore::Impl::tally, written at
-- commit), so that they are exact and cost a point read however long the
-- queue. Triggers would say it in SQL, but one that runs costs a walk
-- about 2 us per row it changes: 7% of a first walk. Every name has a row
-- from the start.
CREATE TABLE tallies (
  name TEXT PRIMARY KEY,
  n    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO tallies(name, n) VALUES
  ('jobs.pending', 0), ('jobs.in_flight', 0), ('jobs.failed', 0),
  ('members.unknown', 0), ('members.active', 0), ('members.departed', 0),
  ('members.purged', 0), ('outcomes.invalid_event', 0),
  ('outcomes.unattributable', 0), ('outcomes.unattributable_removal', 0);
)sql";

} // namespace

int current_schema_version()
{
  return 1;
}

std::string_view schema_script()
{
  return k_schema;
}

} // namespace vtc::store
