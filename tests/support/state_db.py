"""Reading a vtc-sync state database in end-to-end tests (standard library
only): a read-only view with ids and hashes as text, the checks that the
store's kept counts are right, and what the walk produced in a form two
runs can be compared by."""

import base64
import json
import os
import pathlib
import re
import shutil
import sqlite3
import tempfile
import uuid

# Outcome kinds the walk writes; the others come from dispatch.
WALK_OUTCOMES = ("superseded", "skipped", "policy_override", "invalid_event",
                 "unattributable", "entry_skipped")

STATE_VIEWS = pathlib.Path(__file__).resolve().parent / "state_views.sql"


def job_id_text(b):
    """A stored job id as text (src/store/codec.cpp)."""
    if not b:
        return ""
    if len(b) == 17 and b[0] in (1, 2):
        return ("reconcile:", "retire:")[b[0] - 1] + bytes(b[1:]).hex()
    return str(uuid.UUID(bytes=bytes(b))) if len(b) == 16 else ""


def uuid_text(b):
    return str(uuid.UUID(bytes=bytes(b))) if b and len(b) == 16 else ""


def hash_text(b):
    return base64.urlsafe_b64encode(bytes(b)).rstrip(b"=").decode() if b else ""


# Each tally next to a full count of what it counts.
TALLY_CHECK = """
SELECT t.name, t.n, CASE
  WHEN t.name LIKE 'jobs.%' THEN
    (SELECT count(*) FROM jobs WHERE state = substr(t.name, 6))
  WHEN t.name LIKE 'members.%' THEN
    (SELECT count(*) FROM members WHERE status = substr(t.name, 9))
  WHEN t.name = 'outcomes.unattributable_removal' THEN
    (SELECT count(*) FROM outcomes WHERE kind = 'unattributable'
     AND detail->>'reason' = 'removal')
  ELSE (SELECT count(*) FROM outcomes WHERE kind = substr(t.name, 10))
END FROM tallies t ORDER BY t.name
"""


class Db:
    """Read-only view of a state database."""

    def __init__(self, path):
        self.path = str(path)

    def connect(self):
        """A read-only connection that reads ids and hashes as text
        (tests/support/state_views.sql)."""
        uri = pathlib.Path(self.path).resolve().as_uri() + "?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=5)
        con.row_factory = sqlite3.Row
        con.create_function("job_id_text", 1, job_id_text, deterministic=True)
        con.create_function("uuid_text", 1, uuid_text, deterministic=True)
        con.create_function("hash_text", 1, hash_text, deterministic=True)
        if con.execute("PRAGMA user_version").fetchone()[0] >= 1:
            con.executescript(STATE_VIEWS.read_text())
        return con

    def query(self, sql, params=()):
        con = self.connect()
        try:
            return [dict(r) for r in con.execute(sql, params)]
        finally:
            con.close()

    def scalar(self, sql, params=()):
        con = self.connect()
        try:
            row = con.execute(sql, params).fetchone()
            return None if row is None else row[0]
        finally:
            con.close()

    def meta(self, key):
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        if value is None:
            return None
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return value

    def cursor(self):
        return self.meta("cursor")

    def cursor_line(self):
        c = self.cursor()
        return c["line"] if c else 0

    def jobs(self):
        """Live jobs: id, kind, state, attempts, rtbf, event_line, member (DID)."""
        return self.query(
            "SELECT j.id, j.kind, j.state, j.attempts, j.rtbf, j.event_line, "
            "j.key_id, j.target_hash, m.did AS member "
            "FROM jobs j JOIN members m ON m.id = j.member_id ORDER BY j.id")

    def members(self):
        return self.query("SELECT did, status, role, active_from, active_to "
                          "FROM members ORDER BY did")

    def outcomes(self):
        return self.query("SELECT seq, at, kind, job_id, attempts, key_id, "
                          "target_hash, detail FROM outcomes ORDER BY seq")

    def counts(self):
        return {t: self.scalar(f"SELECT count(*) FROM {t}")
                for t in ("jobs", "members", "outcomes", "meta")}

    def integrity(self):
        return self.scalar("PRAGMA integrity_check")

    def tally_errors(self):
        """The counts the store keeps (the tallies table) that differ from a
        full count: [(name, kept, counted)]; [] for a database that cannot
        be read or has no tallies (the bad-input tests make such files).
        Reads a copy of the files, so as to change nothing a test looks at
        (even a reader writes to the -shm file, and creates it)."""
        if not os.path.exists(self.path):
            return []
        with tempfile.TemporaryDirectory(prefix="vtc-tally-") as tmp:
            copy = os.path.join(tmp, "state.db")
            for suffix in ("", "-wal"):
                if os.path.exists(self.path + suffix):
                    shutil.copyfile(self.path + suffix, copy + suffix)
            try:
                con = sqlite3.connect(copy, timeout=5)
                try:
                    rows = con.execute(TALLY_CHECK).fetchall()
                finally:
                    con.close()
            except sqlite3.Error:
                return []
        return [r for r in rows if r[1] != r[2]]


def comparable_jobs(db):
    return [(j["id"], j["kind"], j["member"], j["state"], j["attempts"])
            for j in db.jobs()]


def _stable_detail(detail):
    # Transport errors quote elapsed times ("after 0 ms"): not comparable.
    return re.sub(r"\b\d+ (ms|milliseconds|seconds|s)\b", "N \\1", detail)


def comparable_outcomes(db, walk_only=False):
    """(kind, job_id, detail) in sequence order, without seq and time."""
    return [(o["kind"], o["job_id"], _stable_detail(o["detail"]))
            for o in db.outcomes()
            if not walk_only or o["kind"] in WALK_OUTCOMES]


def walk_state(db):
    """What the walk produced, independent of dispatch: jobs (id, kind,
    member, event line, rtbf), member rows and the walk's outcomes."""
    return {
        "jobs": [(j["id"], j["kind"], j["member"], j["event_line"],
                  bool(j["rtbf"])) for j in db.jobs()],
        "members": [tuple(m.values()) for m in db.members()],
        "outcomes": comparable_outcomes(db, walk_only=True),
    }
