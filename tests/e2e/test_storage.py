"""Storage faults: a full file system, a read-only database
file, a corrupt database and a newer schema. Each ends the pass with the
right exit code and one error line naming the database, leaves the database
consistent, and -- where the fault goes away -- the next pass continues
where the last good commit left off."""

import os
import resource
import signal
import sqlite3
import subprocess
import unittest

import vtcsync
from vtcsync import EX_CONFIG, EX_IOERR, EX_OK, Community

vtcsync.binary()

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def file_size_limit(limit):
    """preexec_fn: files may grow to `limit` bytes; writes beyond fail with
    EFBIG instead of killing the process with SIGXFSZ."""
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


def run_limited(c, limit, *args):
    p = subprocess.run([vtcsync.binary(), *c.args(*args)],
                       env=vtcsync.clean_env(), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=120,
                       preexec_fn=file_size_limit(limit))
    return p.returncode, p.stderr.decode("utf-8", "replace")


def run_as_nobody(c, *args):
    p = subprocess.run([*NOBODY, vtcsync.binary(), *c.args(*args)],
                       env=vtcsync.clean_env(), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=120)
    return p.returncode, p.stderr.decode("utf-8", "replace")


class StorageFaults(unittest.TestCase):
    def community(self, *args, **kw):
        c = Community(*args, **kw)
        self.addCleanup(c.cleanup)
        return c

    def assert_one_error(self, err, *words):
        errors = vtcsync.error_lines(err)
        self.assertEqual(len(errors), 1, err)
        self.assertTrue(errors[0].startswith(vtcsync.ERROR_PREFIX), errors[0])
        for w in words:
            self.assertIn(w, errors[0])
        return errors[0]

    def fresh_walk(self, log):
        ref = self.community(log=str(log))
        rc, _, err = ref.tick()
        self.assertEqual(rc, EX_OK, err)
        return vtcsync.walk_state(ref.db)

    GROWN = 25000  # entries appended: two full walk batches and a part

    def grown(self):
        """A community whose database walked basic (12 entries), with
        GROWN more entries waiting in the log."""
        c = self.community()
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_OK, err)
        c.gen_audit("--entries", self.GROWN, "--members", 500, "--seed", 61,
                    "--append", "-o", c.audit)
        return c

    def test_file_system_full_then_space(self):
        # The whole walk's files, then limits from "the first write fails"
        # to "a late batch fails": each below what the walk needs.
        ref = self.grown()
        rc, _, err = ref.tick()
        self.assertEqual(rc, EX_OK, err)
        total = self.GROWN + 12
        expected = vtcsync.walk_state(ref.db)
        needed = max(os.path.getsize(p) for p in ref.dir.glob("state.db*"))
        boundaries = set(range(12, total, 10000))  # the walk's batches
        for limit in (4096, 16384, needed // 8, needed // 2, needed * 9 // 10):
            with self.subTest(limit=limit):
                c = self.grown()
                rc, err = run_limited(c, limit, "tick")
                self.assertEqual(rc, EX_IOERR, err)
                self.assert_one_error(err, str(c.db_path))
                self.assertEqual(c.db.integrity(), "ok")
                self.assertIn(c.db.cursor_line(), boundaries,
                              "the cursor is at a batch boundary")
                rc, _, err = c.tick()
                self.assertEqual(rc, EX_OK, err)
                self.assertEqual(c.db.cursor_line(), total)
                self.assertEqual(vtcsync.walk_state(c.db), expected)

    def test_file_system_full_on_the_first_pass(self):
        for limit in (0, 4096, 32768):
            with self.subTest(limit=limit):
                c = self.community()
                rc, err = run_limited(c, limit, "tick")
                self.assertEqual(rc, EX_IOERR, err)
                self.assert_one_error(err, str(c.db_path))
                rc, _, err = c.tick()
                self.assertEqual(rc, EX_OK, err)
                self.assertEqual(c.db.integrity(), "ok")
                self.assertEqual(vtcsync.walk_state(c.db),
                                 self.fresh_walk(c.audit))

    def test_read_only_database_file(self):
        """Run as nobody: root ignores file modes."""
        c = self.community()
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_OK, err)
        c.gen_audit("--entries", 50, "--seed", 62, "--append", "-o", c.audit)
        before = vtcsync.walk_state(c.db)
        os.chmod(c.dir, 0o755)
        for path in (c.dir, c.key_path, str(c.db_path) + ".lock"):
            os.chown(path, 65534, 65534)
        os.chmod(c.db_path, 0o444)
        rc, err = run_as_nobody(c, "tick")
        self.assertEqual(rc, EX_IOERR, err)
        self.assert_one_error(err, str(c.db_path), "readonly")
        self.assertEqual(c.db.integrity(), "ok")
        self.assertEqual(vtcsync.walk_state(c.db), before)
        self.assertEqual(c.db.cursor_line(), 12)
        # Writable again: the pass goes on from line 12.
        for name in os.listdir(c.dir):
            os.chown(c.dir / name, 65534, 65534)
            os.chmod(c.dir / name, 0o600 if name == "keys.json" else 0o644)
        rc, err = run_as_nobody(c, "tick")
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(c.db.cursor_line(), 62)

    def test_corrupt_database(self):
        def pages(data):
            # Every page after the first (the schema) overwritten.
            return data[:4096] + bytes(range(256)) * ((len(data) - 4096) // 256)

        cases = [
            ("random bytes", lambda d: os.urandom(len(d)), "not a database"),
            ("broken header", lambda d: d[:16] + b"\xff" * 84 + d[100:],
             "not a database"),
            ("overwritten pages", pages, "malformed"),
            ("cut in half", lambda d: d[:len(d) // 2], "malformed"),
        ]
        for name, corrupt, words in cases:
            with self.subTest(name):
                c = self.community()
                rc, _, err = c.tick()
                self.assertEqual(rc, EX_OK, err)
                for suffix in ("-wal", "-shm"):
                    self.assertFalse(os.path.exists(str(c.db_path) + suffix))
                c.db_path.write_bytes(corrupt(c.db_path.read_bytes()))
                c.gen_audit("--entries", 20, "--seed", 63, "--append",
                            "-o", c.audit)
                for args in (("tick",), ("status",), ("queue", "list")):
                    rc, out, err = c.run(*args)
                    self.assertEqual(rc, EX_IOERR, f"{args}: {err}")
                    self.assert_one_error(err, str(c.db_path), words)

    def test_newer_schema(self):
        c = self.community()
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_OK, err)
        con = sqlite3.connect(c.db_path)
        version = con.execute("PRAGMA user_version").fetchone()[0]
        con.execute(f"PRAGMA user_version = {version + 1}")
        con.commit()
        con.close()
        c.gen_audit("--entries", 20, "--seed", 64, "--append", "-o", c.audit)
        for args in (("tick",), ("status",), ("queue", "list")):
            rc, _, err = c.run(*args)
            self.assertEqual(rc, EX_CONFIG, f"{args}: {err}")
            self.assert_one_error(err, str(c.db_path), f"{version + 1}")
        self.assertEqual(c.db.cursor_line(), 12)


if __name__ == "__main__":
    unittest.main()
