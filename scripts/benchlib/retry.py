"""queue retry --all-failed against sqlite3 making the same row changes by
key in one transaction."""

import sqlite3
import statistics
import time

from .common import (NS, UNREACHABLE, Community, checkpoint, copy_db, counted, fail, note,
                     ratio_row, take_turns)
from .idle import idle_community

MAX_ATTEMPTS = 16  # sync.max_attempts's default: a failed job spent them all
# A failed job's outcome (store/dispatch_store.cpp, finish(): nlohmann's
# dump sorts the keys).
FAILED_DETAIL = '{"class":"transient","error":"HTTP 503","http_status":503}'
JOB_KEYS = ("LEFT JOIN member_keys k ON k.member_id = j.member_id AND k.key = j.key")


def make_failed(db, failed, outcomes, now):
    """`failed` jobs, spread over the table, as a job that failed after its
    last 503 leaves them: state failed, every attempt spent (the attempts
    rows too), a 'failed' outcome; then outcomes of earlier jobs
    ('succeeded') up to `outcomes` rows in all, before the failed ones."""
    con = sqlite3.connect(db)
    with con:
        jobs = con.execute("SELECT count(*) FROM jobs").fetchone()[0]
        step = jobs // failed
        con.execute("UPDATE jobs SET state = 'failed', attempts = ?, due = ?, "
                    "last_error = 'HTTP 503' WHERE member_id IN (SELECT member_id FROM "
                    "(SELECT member_id, row_number() OVER (ORDER BY member_id) AS r "
                    "FROM jobs) WHERE r % ? = 0 LIMIT ?)",
                    (MAX_ATTEMPTS, now - 3600 * NS, step, failed))
        # The counts the store keeps follow, as the store would keep them.
        con.execute("UPDATE tallies SET n = (SELECT count(*) FROM jobs "
                    "WHERE state = substr(name, 6)) WHERE name LIKE 'jobs.%'")
        con.execute("WITH RECURSIVE k(n) AS (SELECT 2 UNION ALL SELECT n + 1 FROM k "
                    "WHERE n < ?) INSERT INTO attempts(job_id, n, started, finished, "
                    "method, retry, http_status, class, error) SELECT j.id, k.n, ?, ?, "
                    "'PUT', 0, 503, 'transient', 'HTTP 503' FROM jobs j, k "
                    "WHERE j.state = 'failed'", (MAX_ATTEMPTS, now - 3600 * NS,
                                                 now - 3600 * NS))
        earlier = outcomes - failed - con.execute(
            "SELECT count(*) FROM outcomes").fetchone()[0]
        if earlier < 0:
            fail(f"retry: the database has more than {outcomes - failed} outcomes")
        con.execute("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                    "WHERE i < ?) INSERT INTO outcomes(at, kind, job_id, attempts, key, "
                    "target_hash) SELECT ? - (? - i) * 1000000, 'succeeded', "
                    "randomblob(16), 1, (SELECT min(id) FROM audit_keys), randomblob(32) "
                    "FROM s", (earlier, now - 7200 * NS, earlier))
        con.execute("INSERT INTO outcomes(at, kind, job_id, attempts, key, target_hash, "
                    f"detail) SELECT ?, 'failed', j.id, j.attempts, j.key, "
                    f"coalesce(j.target, k.target_hash), ? FROM jobs j {JOB_KEYS} "
                    "WHERE j.state = 'failed' ORDER BY j.member_id",
                    (now - 3600 * NS, FAILED_DETAIL))
        got = (con.execute("SELECT count(*) FROM jobs WHERE state = 'failed'").fetchone()[0],
               con.execute("SELECT count(*) FROM outcomes").fetchone()[0])
    con.close()
    checkpoint(db)
    if got != (failed, outcomes):
        fail(f"retry: made {got[0]} failed jobs and {got[1]} outcomes")


def reference_script(db, path, now):
    """What `queue retry` changes (store/operator_store.cpp, retry()), as
    SQL: per failed job, its row updated by key (member_id, the rowid) and
    a 'retried' outcome; one transaction."""
    con = sqlite3.connect(db)
    rows = con.execute(f"SELECT j.member_id, hex(j.id), j.attempts, j.key, "
                       f"hex(coalesce(j.target, k.target_hash)), j.retries FROM jobs j "
                       f"{JOB_KEYS} WHERE j.state = 'failed' ORDER BY j.rowid").fetchall()
    con.close()
    with open(path, "w") as f:
        f.write("BEGIN;\n")
        for member, job, attempts, key, target, retries in rows:
            f.write("UPDATE jobs SET state = 'pending', attempts = 0, retries = retries + 1, "
                    f"due = {now}, last_error = '' WHERE member_id = {member};\n"
                    "INSERT INTO outcomes(at, kind, job_id, attempts, key, target_hash, "
                    f"detail) VALUES ({now}, 'retried', x'{job}', {attempts}, "
                    f"{'NULL' if key is None else key}, x'{target or ''}', "
                    f"'{{\"retry\":{retries + 1}}}');\n")
        f.write("COMMIT;\n")
    return len(rows)


def retried(db):
    """The retried jobs and outcomes, as the check compares them."""
    con = sqlite3.connect(db)
    jobs = con.execute("SELECT member_id, state, attempts, retries, last_error FROM jobs "
                       "WHERE retries > 0 ORDER BY member_id").fetchall()
    outs = con.execute("SELECT kind, job_id, attempts, key, target_hash, detail FROM "
                       "outcomes WHERE kind = 'retried' ORDER BY seq").fetchall()
    left = con.execute("SELECT count(*) FROM jobs WHERE state = 'failed'").fetchone()[0]
    con.close()
    return jobs, outs, left


def case_retry(root, binary, size, seed, results):
    idle = idle_community(root, binary, size, seed)
    failed, outcomes = size["failed_jobs"], size["outcomes"]
    c = Community(root, "retry", binary, UNREACHABLE)
    c.share_log(idle)
    template = c.dir / "template.db"
    copy_db(idle.db, template)
    note(f"retry: {failed:,} failed jobs among {outcomes:,} outcomes")
    make_failed(template, failed, outcomes, time.time_ns())
    script = c.dir / "retry.sql"
    if reference_script(template, script, time.time_ns()) != failed:
        fail("retry: the reference does not retry every failed job")
    ours = c.argv("queue", "retry", "--all-failed", "--yes")
    theirs = ["sqlite3", str(c.db), f".read {script}"]

    def restored(argv):
        def command(run):
            copy_db(template, c.db, sync=True)
            return argv
        return command

    seen = [None, None]

    def check(i, run):
        """Both leave the same jobs and outcomes, every time."""
        now = retried(c.db)
        jobs, outs, left = now
        if len(jobs) != failed or len(outs) != failed or left != 0:
            fail(f"retry: {names[i]} retried {len(jobs)} jobs ({len(outs)} outcomes, "
                 f"{left} left failed) of {failed}")
        seen[i] = seen[i] or now
        if now != seen[i] or (seen[1 - i] and now != seen[1 - i]):
            fail(f"retry: {names[i]}'s changes differ from another run's")

    names = ("vtc-sync", "sqlite3")
    note("retry: timing (no new round after 2 minutes)")
    times = take_turns([restored(ours), restored(theirs)], size["runs"], warmup=0,
                          after=check, max_seconds=120)
    v, r = statistics.median(times[0]), statistics.median(times[1])
    what = f"queue retry --all-failed, {failed:,} failed jobs, {outcomes:,} outcomes"
    results.append(ratio_row(counted(what, len(times[0]), size["runs"]), v, r, 2, "sqlite3",
                             fmt=lambda s: f"{s:.2f} s"))
