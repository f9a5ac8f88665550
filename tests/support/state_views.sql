-- The state database as text, for tests that read it with SQL: the state
-- database keeps ids and hashes as bytes (src/store/codec.hpp), and these
-- TEMP views, which take precedence over the tables of the same name, show
-- them in the spelling vtc-sync prints. The connection defines
-- job_id_text(blob), uuid_text(blob) and hash_text(blob). An attempt's
-- Idempotency-Key is NULL until its request was answered.
CREATE TEMP VIEW jobs AS
  SELECT job_id_text(j.id) AS id, j.member_id, j.kind, j.state, j.attempts,
         j.retries, j.due, j.rtbf, j.event_line, uuid_text(a.key_id) AS key_id,
         hash_text(coalesce(j.target, k.target_hash)) AS target_hash,
         j.last_error, j.nonce, j.rowid AS rowid
  FROM main.jobs j
  LEFT JOIN main.audit_keys a ON a.id = j.key
  LEFT JOIN main.member_keys k ON k.member_id = j.member_id AND k.key = j.key;
CREATE TEMP VIEW attempts AS
  SELECT job_id_text(t.job_id) AS job_id, t.n, t.started, t.finished, t.method,
         job_id_text(t.job_id) || CASE WHEN t.retry > 0 THEN '/r' || t.retry
                                       ELSE '' END
           || '/' || printf('%016x', t.digest) AS idempotency_key,
         t.http_status, t.class, t.error
  FROM main.attempts t;
CREATE TEMP VIEW outcomes AS
  SELECT o.seq, o.at, o.kind, job_id_text(o.job_id) AS job_id, o.attempts,
         uuid_text(a.key_id) AS key_id, hash_text(o.target_hash) AS target_hash,
         o.detail
  FROM main.outcomes o LEFT JOIN main.audit_keys a ON a.id = o.key;
CREATE TEMP VIEW member_keys AS
  SELECT uuid_text(a.key_id) AS key_id, hash_text(k.target_hash) AS target_hash,
         k.member_id
  FROM main.member_keys k JOIN main.audit_keys a ON a.id = k.key;
