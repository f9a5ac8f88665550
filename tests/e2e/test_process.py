"""vtc-sync as a process: the pass lock, concurrent passes, and a
crash (SIGKILL) in the middle of a walk."""

import json
import signal
import sqlite3
import subprocess
import time
import unittest

import vtcsync
from vtcsync import EX_OK, EX_TEMPFAIL, Community

vtcsync.binary()  # fail at once, clearly, when VTC_SYNC is not set

# A held lock must be answered at once; allow for a loaded machine.
LOCK_ANSWER_SECONDS = 3.0
# The walk's pass deadline must not cut the big walks short.
NO_DEADLINE = {"sync": {"max_seconds_per_pass": 3600}}


def comparable(db):
    return {
        "jobs": vtcsync.comparable_jobs(db),
        "outcomes": vtcsync.comparable_outcomes(db),
        "members": [tuple(m.values()) for m in db.members()],
    }


class LockTest(unittest.TestCase):
    def setUp(self):
        self.c = Community()
        self.addCleanup(self.c.cleanup)
        rc, _, err = self.c.tick()
        self.assertEqual(rc, EX_OK, err)
        # New entries, so a pass that got through would change the db.
        self.c.gen_audit("--entries", 200, "--seed", 5, "--append",
                         "-o", self.c.audit)

    def concurrent_ticks_while_locked(self, n, *flags):
        before_rows = comparable(self.c.db)
        before_counts = self.c.db.counts()
        # After the reads above: a read-only connection to a WAL database
        # may itself create the -wal and -shm files.
        before_files = vtcsync.file_state(self.c.db_path)
        lock = self.c.lock()
        try:
            started = time.monotonic()
            procs = [self.c.start(*flags, "tick") for _ in range(n)]
            results = []
            for p in procs:
                remaining = max(0.1, started + 30 - time.monotonic())
                try:
                    out, err = p.communicate(timeout=remaining)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.communicate()
                    self.fail("a tick waited for the held lock")
                results.append((p.returncode, out.decode(), err.decode(),
                                time.monotonic() - started))
        finally:
            lock.close()
        # Before any read of ours.
        after_files = vtcsync.file_state(self.c.db_path)
        for rc, out, err, elapsed in results:
            self.assertEqual(rc, EX_TEMPFAIL, err)
            self.assertEqual(out, "")
            self.assertLess(elapsed, LOCK_ANSWER_SECONDS,
                            "a held lock exits 75 at once")
            if "-q" in flags:
                self.assertEqual(err, "", "-q: nothing on exit 75")
            else:
                lines = vtcsync.error_lines(err)
                self.assertEqual(len(lines), 1, err)
                self.assertTrue(lines[0].startswith(vtcsync.ERROR_PREFIX))
                self.assertIn(".lock", lines[0])
        self.assertEqual(self.c.db.counts(), before_counts)
        self.assertEqual(comparable(self.c.db), before_rows)
        self.assertEqual(after_files, before_files,
                         "a pass that found the lock held touched the db")
        # Released: the next pass runs.
        rc, _, err = self.c.tick()
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(self.c.db.cursor_line(), 212)

    def test_two_ticks_while_locked(self):
        self.concurrent_ticks_while_locked(2)

    def test_ten_ticks_while_locked(self):
        self.concurrent_ticks_while_locked(10)

    def test_quiet_ticks_while_locked(self):
        self.concurrent_ticks_while_locked(10, "-q")

    def test_status_while_locked(self):
        lock = self.c.lock()
        try:
            rc, out, err = self.c.run("status", "--json")
            self.assertEqual(rc, EX_OK, err)
            self.assertTrue(json.loads(out)["running"])
            rc, out, err = self.c.run("queue", "list")
            self.assertEqual(rc, EX_OK, err)
        finally:
            lock.close()
        rc, out, err = self.c.run("status", "--json")
        self.assertFalse(json.loads(out)["running"])


class ConcurrencyTest(unittest.TestCase):
    def test_racing_ticks_apply_each_entry_once(self):
        """Ten passes started together: the ones that get the lock walk, the
        others exit 75; the result equals one uninterrupted pass."""
        c = Community(extra=NO_DEADLINE)
        self.addCleanup(c.cleanup)
        c.gen_audit("--entries", 20000, "--members", 2000, "--seed", 8,
                    "--append", "-o", c.audit)
        ref = Community(log=str(c.audit), extra=NO_DEADLINE)
        self.addCleanup(ref.cleanup)
        rc, _, err = ref.tick()
        self.assertEqual(rc, EX_OK, err)

        for _ in range(3):
            procs = [c.start("-q", "tick") for _ in range(10)]
            codes = []
            for p in procs:
                out, err = p.communicate(timeout=120)
                codes.append(p.returncode)
                self.assertIn(p.returncode, (EX_OK, EX_TEMPFAIL), err)
            self.assertIn(EX_OK, codes)
        self.assertEqual(c.db.cursor_line(), 20012)
        # Several passes ran here, one there: compare what the walk made
        # (dispatch attempts differ with the number of passes).
        self.assertEqual(vtcsync.walk_state(c.db), vtcsync.walk_state(ref.db))
        self.assertEqual(c.db.integrity(), "ok")


class CrashTest(unittest.TestCase):
    def make(self, entries, seed):
        c = Community(log=None, extra=NO_DEADLINE)
        self.addCleanup(c.cleanup)
        c.gen_audit("--entries", entries, "--members", 5000, "--seed", seed,
                    "--rotate-at", entries // 2, "-o", c.audit)
        return c

    def kill_mid_walk(self, c, total, after=5000):
        """Start a pass, SIGKILL it once it has committed a few batches (the
        cursor has reached line `after`). Returns the cursor line at the
        kill, or None when the pass ended first."""
        p = c.start("tick")
        try:
            def committed():
                if p.poll() is not None:
                    return "ended"
                try:
                    return c.db.cursor_line() >= after
                except Exception:  # not created yet / being created
                    return False
            state = vtcsync.poll(committed, timeout=120, interval=0.005,
                                 what=f"the cursor at line {after}")
            if state == "ended":
                return None
            vtcsync.sigkill(p)
            p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        if p.returncode != -signal.SIGKILL:
            return None  # finished before the signal landed
        line = c.db.cursor_line()
        return line if line < total else None

    def test_sigkill_mid_walk_then_resume(self):
        entries, killed_at = 200000, None
        for attempt, seed in enumerate((1, 2, 3)):
            c = self.make(entries, seed)
            killed_at = self.kill_mid_walk(c, entries)
            if killed_at is not None:
                break
            entries *= 2  # the walk was too fast to catch: a bigger log
        self.assertIsNotNone(killed_at, "could not kill a pass mid-walk")
        self.assertGreater(killed_at, 0)
        self.assertLess(killed_at, entries)
        self.assertEqual(c.db.integrity(), "ok")

        # The same log, walked without interruption.
        ref = Community(log=str(c.audit), extra=NO_DEADLINE)
        self.addCleanup(ref.cleanup)
        rc, _, err = ref.tick()
        self.assertEqual(rc, EX_OK, err)

        rc, _, err = c.tick()
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(c.db.cursor_line(), entries)
        self.assertEqual(c.db.cursor(), ref.db.cursor() | {
            k: c.db.cursor()[k] for k in ("device", "inode")})
        self.assertEqual(c.db.integrity(), "ok")
        got, want = comparable(c.db), comparable(ref.db)
        self.assertEqual(len(got["jobs"]), len(want["jobs"]))
        self.assertEqual(got["jobs"], want["jobs"])
        self.assertEqual(len(got["outcomes"]), len(want["outcomes"]))
        self.assertEqual(got["outcomes"], want["outcomes"])
        self.assertEqual(got["members"], want["members"])
        # The resumed pass read only what the killed one had not committed.
        self.assertEqual(c.status_json()["last_pass"]["entries"],
                         entries - killed_at)



class LibrariesTest(unittest.TestCase):
    """libcrypto and libcurl are loaded by the passes that hash or send, not
    by the frequent idle ones (LD_DEBUG=files lists what the loader maps)."""

    def loaded(self, c, *args):
        rc, _, err = c.run(*args, env={"LD_DEBUG": "files"})
        self.assertIn(rc, (EX_OK, 69), err)  # 69: the registry is down
        return {lib for lib in ("libcrypto.so", "libcurl.so")
                if f"file={lib}" in err}

    def test_libraries_load_when_needed(self):
        c = Community(log=None)
        self.addCleanup(c.cleanup)
        c.audit.write_bytes(b"")
        self.loaded(c, "tick")  # creates the database, checks the URL once
        self.assertEqual(self.loaded(c, "tick"), set(), "an idle pass")
        self.assertEqual(self.loaded(c, "status"), set())
        c.copy_log("basic.audit.jsonl")
        # Verifying hashes; the unreachable registry is tried with libcurl.
        self.assertEqual(self.loaded(c, "tick"), {"libcrypto.so", "libcurl.so"})
        self.assertEqual(self.loaded(c, "audit", "verify"), {"libcrypto.so"})

    def test_a_pass_held_back_loads_no_client(self):
        """Due jobs, but a 429 pause, an open breaker or an incompatible
        registry holds the pass back: it neither opens the registry nor
        sends, so it loads neither library."""
        c = Community()
        self.addCleanup(c.cleanup)
        c.tick()  # the walk; the unreachable registry is tried
        now = time.time_ns()
        hour = 3600 * 10**9

        def hold(health=None, pause=None):
            con = sqlite3.connect(c.db_path)
            with con:
                con.execute("UPDATE jobs SET due = ?", (now - hour,))
                con.execute("DELETE FROM meta WHERE key IN "
                            "('health', 'setting.pause_until')")
                if health:
                    con.execute("INSERT INTO meta(key, value) VALUES ('health', ?)",
                                (json.dumps(health),))
                if pause:
                    con.execute("INSERT INTO meta(key, value) VALUES "
                                "('setting.pause_until', ?)", (str(pause),))
            con.close()

        def health(state):
            return {"state": state, "since": now - hour, "last_success": None,
                    "last_failure": now, "last_error": "HTTP 503",
                    "consecutive_failures": 5, "breaker_trips": 1,
                    "breaker_open_until": now + hour}

        self.assertGreater(len(c.db.jobs()), 0)
        for name, held in (("429 pause", dict(pause=now + hour)),
                           ("breaker open", dict(health=health("degraded"))),
                           ("incompatible", dict(health=health("incompatible")))):
            with self.subTest(name):
                hold(**held)
                rc, _, err = c.tick(env={"LD_DEBUG": "files"})
                self.assertIn(rc, (EX_OK, 69), err)
                self.assertIn("pause" if "pause" in name else "breaker open", err)
                self.assertFalse("file=libcurl.so" in err, "libcurl loaded")
                self.assertFalse("file=libcrypto.so" in err, "libcrypto loaded")
        # Control: with nothing holding it back, the same pass opens the
        # registry and so loads libcurl.
        hold()
        _, _, err = c.tick(env={"LD_DEBUG": "files"})
        self.assertTrue("file=libcurl.so" in err, "libcurl not loaded")

if __name__ == "__main__":
    unittest.main()
