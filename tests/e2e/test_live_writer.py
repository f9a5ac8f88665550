"""A live writer (vtc-sync(1), THE AUDIT LOG): while passes run back to
back, another writer appends to the audit log at random moments and cuts
lines across writes (part of a line, flush, the rest later). Every pass
exits 0 without an error or warning (an incomplete last line is not
corruption), and in the end every entry was processed exactly once: the same
state, outcomes and registry as one walk of the finished log.

VTC_SYNC_FAULT_SEED replays a run; VTC_SYNC_LONG_TESTS=1 writes 30000
entries instead of 3000."""

import os
import sys
import threading
import time
import unittest

import faults
import vtcsync
from registry import Registry
from vtcsync import Community

vtcsync.binary()

ENTRIES = 30000 if faults.long_tests() else 3000
CONFIG = {
    "registry": {"concurrency": 4},
    "sync": {"max_jobs_per_pass": 5000, "rtbf_batch_window_hours": 0},
}


class Writer(threading.Thread):
    """Appends `lines` to `path` in random pieces with random pauses."""

    def __init__(self, path, lines, rng):
        super().__init__(daemon=True)
        self.path, self.lines, self.rng = path, lines, rng
        self.writes = 0
        self.cut_lines = 0
        self.mid_line = False  # a line is partly written right now
        self.error = None

    def run(self):
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                for line in self.lines:
                    data = line + b"\n"
                    cuts = sorted(self.rng.sample(range(1, len(data)),
                                                  self.rng.choice((0, 0, 1, 2))))
                    if cuts:
                        self.cut_lines += 1
                    pieces = [data[a:b] for a, b in
                              zip([0, *cuts], [*cuts, len(data)])]
                    for i, piece in enumerate(pieces):
                        os.write(fd, piece)
                        self.writes += 1
                        self.mid_line = i < len(pieces) - 1
                        if self.rng.random() < 0.3:
                            time.sleep(self.rng.uniform(0, 0.004))
            finally:
                os.close(fd)
        except BaseException as e:  # reported by the test
            self.error = e


class LiveWriter(unittest.TestCase):
    def test_passes_while_the_log_is_written(self):
        seed, rng = faults.seeded("live-writer")
        with Registry() as reg:
            c = Community(log=None, registry_url=reg.url, extra=CONFIG,
                          prefix="vtc-live-")
            self.addCleanup(c.cleanup)
            full = c.dir / "full.jsonl"
            c.gen_audit("--entries", ENTRIES, "--members", ENTRIES // 20,
                        "--seed", seed % 100000, "--start-time",
                        "2026-01-01T00:00:00Z", "-o", full)
            lines = vtcsync.log_lines(full)
            c.audit.write_bytes(b"")
            writer = Writer(c.audit, lines, rng)
            passes = mid_line_starts = 0
            t = 0
            writer.start()
            while writer.is_alive() or c.db.cursor_line() < len(lines):
                if writer.mid_line:
                    mid_line_starts += 1
                rc, _, err = c.tick(env=faults.clock_env(t))
                passes += 1
                t += 60
                self.assertEqual(rc, 0, f"pass {passes} (seed {seed}): {err}")
                self.assertEqual(vtcsync.error_lines(err), [],
                                 f"pass {passes} (seed {seed})")
                self.assertNotIn("warning", err, f"pass {passes} (seed {seed})")
                self.assertEqual(faults.terminal_problems(c.db), [])
                self.assertLess(passes, 100000, "the walk never caught up")
            writer.join()
            self.assertIsNone(writer.error)
            self.assertEqual(c.audit.read_bytes(), full.read_bytes())
            drained, t = faults.drain(self, c, t)
            self.assertEqual(c.db.integrity(), "ok")
            requests = reg.requests()
            self.assertEqual(faults.request_problems(requests, set()), [])
            for r in requests:
                if r["method"] in ("PUT", "DELETE"):
                    vtcsync.assert_key(r["idempotency_key"], round=0)
            want = faults.reference(self, full, t, extra=CONFIG)
            faults.assert_same_as_reference(self, faults.summary(c, reg), want)
            self.assertGreater(passes, 10, "the writer was too fast to overlap")
            sys.stderr.write(
                f"live writer: {len(lines)} entries in {writer.writes} writes "
                f"({writer.cut_lines} lines cut across writes); {passes} "
                f"passes, {mid_line_starts} started with a line half "
                f"written; {len(want['terminal'])} jobs ended once each, "
                f"0 lost, 0 duplicated, 0 corruption reports\n")


if __name__ == "__main__":
    unittest.main()
