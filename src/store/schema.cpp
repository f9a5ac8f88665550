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


// Version 2: ids and hashes as bytes (a UUID in 16, a hash in 32; see
// store/codec.hpp), audit key ids by reference, and a job's target hash
// read from member_keys rather than kept twice. About half the bytes per
// job of version 1. The vtc_* functions convert the text of version 1;
// connection.cpp defines them for the migration.
constexpr std::string_view k_v2 = R"sql(
CREATE TABLE audit_keys (
  id     INTEGER PRIMARY KEY,
  key_id BLOB NOT NULL UNIQUE
) STRICT;
INSERT INTO audit_keys(key_id)
  SELECT DISTINCT vtc_uuid(key_id) FROM (
    SELECT key_id FROM member_keys UNION SELECT key_id FROM jobs
    UNION SELECT key_id FROM outcomes)
  WHERE vtc_uuid(key_id) IS NOT NULL;

-- A member's target hash under each audit key it was seen with: HMAC(key,
-- DID) is one value per key. Redacted entries are matched through it
-- (SPEC §4.5), by an index on the first 8 bytes of the hash, as selective
-- as all 32 at a quarter of the size.
CREATE TABLE member_keys_v2 (
  member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
  key         INTEGER NOT NULL REFERENCES audit_keys(id),
  target_hash BLOB NOT NULL,
  PRIMARY KEY (member_id, key)
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO member_keys_v2
  SELECT k.member_id, a.id, vtc_hash(k.target_hash) FROM member_keys k
  JOIN audit_keys a ON a.key_id = vtc_uuid(k.key_id)
  WHERE vtc_hash(k.target_hash) IS NOT NULL ORDER BY k.member_id, a.id;
DROP TABLE member_keys;
ALTER TABLE member_keys_v2 RENAME TO member_keys;
CREATE INDEX member_keys_hash ON member_keys(substr(target_hash, 1, 8));

-- At most one live job per member (SPEC §5.2): the member's id is the
-- job's rowid. `key` is the audit key of the entry that made the job: with
-- member_id it names the target hash.
CREATE TABLE jobs_v2 (
  member_id   INTEGER PRIMARY KEY REFERENCES members(id),
  id          BLOB NOT NULL UNIQUE,
  kind        TEXT NOT NULL CHECK (kind IN ('publish','update','depart','delete')),
  state       TEXT NOT NULL CHECK (state IN ('pending','in_flight','failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  retries     INTEGER NOT NULL DEFAULT 0,
  due         INTEGER NOT NULL,
  rtbf        INTEGER NOT NULL DEFAULT 0,
  event_line  INTEGER NOT NULL,
  key         INTEGER REFERENCES audit_keys(id),
  last_error  TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO jobs_v2(member_id, id, kind, state, attempts, retries, due, rtbf,
                    event_line, key, last_error)
  SELECT j.member_id, vtc_job_id(j.id), j.kind, j.state, j.attempts, j.retries,
         j.due, j.rtbf, j.event_line, a.id, j.last_error
  FROM jobs j LEFT JOIN audit_keys a ON a.key_id = vtc_uuid(j.key_id)
  ORDER BY j.member_id;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
-- The due-jobs query reads only pending rows in due order: its cost
-- follows the number of due jobs, not the queue size. Ties in due order
-- break by rowid, the member's id. In-flight and failed
-- jobs, few, have an index each: SQLite uses a partial index only for a
-- query naming the same state.
CREATE INDEX jobs_due ON jobs(due) WHERE state = 'pending';
CREATE INDEX jobs_in_flight ON jobs(due) WHERE state = 'in_flight';
CREATE INDEX jobs_failed ON jobs(due) WHERE state = 'failed';

-- One row per request sent for a job (kept after the job ends). Its
-- Idempotency-Key is the job id, with "/r<retry>" after a retry (SPEC §6).
CREATE TABLE attempts_v2 (
  job_id      BLOB NOT NULL,
  n           INTEGER NOT NULL,
  started     INTEGER NOT NULL,
  finished    INTEGER,
  method      TEXT NOT NULL DEFAULT '',
  retry       INTEGER NOT NULL DEFAULT 0,
  http_status INTEGER,
  class       TEXT NOT NULL DEFAULT '',
  error       TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, n)
) STRICT, WITHOUT ROWID;
INSERT INTO attempts_v2
  SELECT vtc_job_id(job_id), n, started, finished, method,
         CASE WHEN instr(idempotency_key, '/r') > 0
              THEN CAST(substr(idempotency_key, instr(idempotency_key, '/r') + 2)
                        AS INTEGER)
              ELSE 0 END,
         http_status, class, error
  FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_v2 RENAME TO attempts;

-- Append-only outcome log (SPEC §7); never a plaintext DID. The sequence
-- carries over, so no seq is ever handed out twice.
CREATE TABLE outcomes_v2 (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  job_id      BLOB NOT NULL DEFAULT x'',
  attempts    INTEGER NOT NULL DEFAULT 0,
  key         INTEGER REFERENCES audit_keys(id),
  target_hash BLOB NOT NULL DEFAULT x'',
  detail      TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO outcomes_v2
  SELECT o.seq, o.at, o.kind, coalesce(vtc_job_id(o.job_id), x''), o.attempts,
         a.id, coalesce(vtc_hash(o.target_hash), x''), o.detail
  FROM outcomes o LEFT JOIN audit_keys a ON a.key_id = vtc_uuid(o.key_id)
  ORDER BY o.seq;
DELETE FROM sqlite_sequence WHERE name = 'outcomes_v2';
INSERT INTO sqlite_sequence(name, seq)
  SELECT 'outcomes_v2', seq FROM sqlite_sequence WHERE name = 'outcomes';
DROP TABLE outcomes;
ALTER TABLE outcomes_v2 RENAME TO outcomes;
CREATE INDEX outcomes_kind ON outcomes(kind);
)sql";

// Version 3: CHECK constraints compare instead of testing an IN list. For
// an IN list of three or more values SQLite builds a temporary index each
// time it checks a row: about 0.7 µs per job or member written, and an
// allocation of its pages. The constraints accept the same values and no
// stored row changes, so the table definitions are edited in place, by
// SQLite's documented procedure for such changes (migrate() then bumps
// the schema cookie).
constexpr std::string_view k_v3 = R"sql(
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (status IN (''unknown'',''active'',''departed'',''purged''))',
  'CHECK (status = ''unknown'' OR status = ''active'' OR status = ''departed'' OR status = ''purged'')')
  WHERE type = 'table' AND name = 'members';
UPDATE sqlite_schema SET sql = replace(replace(sql,
  'CHECK (kind IN (''publish'',''update'',''depart'',''delete''))',
  'CHECK (kind = ''publish'' OR kind = ''update'' OR kind = ''depart'' OR kind = ''delete'')'),
  'CHECK (state IN (''pending'',''in_flight'',''failed''))',
  'CHECK (state = ''pending'' OR state = ''in_flight'' OR state = ''failed'')')
  WHERE type = 'table' AND name = 'jobs';
PRAGMA writable_schema = OFF;
)sql";

// Version 4: cheaper writes for the walk, which rewrites a job and adds an
// outcome for every membership event that supersedes a job.
// - jobs.key loses its foreign key. SQLite checks a foreign key in an
//   UPDATE that sets its column by keeping a statement journal: a copy of
//   every page the UPDATE changes (the row's, and those of the index
//   entries it moves). audit_keys rows are only ever added
//   (SqliteStore::Impl::key_ref()), so the reference cannot dangle.
//   Dropping a foreign key leaves every stored row valid: the definition
//   is edited in place, as in version 3.
// - Outcomes are indexed by kind only for the kinds status counts, which
//   are rare: superseded and skipped outcomes add nothing to the index.
constexpr std::string_view k_v4 = R"sql(
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
  'key         INTEGER REFERENCES audit_keys(id),',
  'key         INTEGER,')
  WHERE type = 'table' AND name = 'jobs';
PRAGMA writable_schema = OFF;

DROP INDEX outcomes_kind;
CREATE INDEX outcomes_counted ON outcomes(kind)
  WHERE kind = 'invalid_event' OR kind = 'unattributable';
)sql";

// Version 5: a pending job's id is not indexed. The walk rewrites a job,
// its id included, for every membership event that supersedes it; a
// unique index on the id (random UUIDs) moved two entries in pages no
// recent event had touched, about 15% of a first walk's time. Dispatch,
// recovery and operator changes reach a job by its member (the rowid);
// operators name in-flight and failed jobs by id through jobs_id, and a
// pending job by a scan (queue show). The UNIQUE constraint of version 2
// has its own index, which only a rebuild of the table drops.
constexpr std::string_view k_v5 = R"sql(
CREATE TABLE jobs_v5 (
  member_id   INTEGER PRIMARY KEY REFERENCES members(id),
  id          BLOB NOT NULL,
  kind        TEXT NOT NULL CHECK (kind = 'publish' OR kind = 'update' OR kind = 'depart' OR kind = 'delete'),
  state       TEXT NOT NULL CHECK (state = 'pending' OR state = 'in_flight' OR state = 'failed'),
  attempts    INTEGER NOT NULL DEFAULT 0,
  retries     INTEGER NOT NULL DEFAULT 0,
  due         INTEGER NOT NULL,
  rtbf        INTEGER NOT NULL DEFAULT 0,
  event_line  INTEGER NOT NULL,
  key         INTEGER,
  last_error  TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO jobs_v5(member_id, id, kind, state, attempts, retries, due, rtbf,
                    event_line, key, last_error)
  SELECT member_id, id, kind, state, attempts, retries, due, rtbf,
         event_line, key, last_error
  FROM jobs ORDER BY member_id;
DROP TABLE jobs;
ALTER TABLE jobs_v5 RENAME TO jobs;
CREATE INDEX jobs_due ON jobs(due) WHERE state = 'pending';
CREATE INDEX jobs_in_flight ON jobs(due) WHERE state = 'in_flight';
CREATE INDEX jobs_failed ON jobs(due) WHERE state = 'failed';
-- A query uses it when it names the job's state: state = 'failed', say.
CREATE INDEX jobs_id ON jobs(id) WHERE state = 'in_flight' OR state = 'failed';
)sql";

} // namespace

const std::vector<std::string_view>& migrations()
{
  static const std::vector<std::string_view> k_all{k_v1, k_v2, k_v3, k_v4,
                                                   k_v5};
  return k_all;
}

int current_schema_version()
{
  return static_cast<int>(migrations().size());
}

} // namespace vtc::store
