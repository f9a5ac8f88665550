"""End to end: what an operator runs vtc-sync with — the Prometheus metrics
textfile (vtc-sync(1), METRICS), checked with a strict parser of the text
exposition format, and `backup` (a copy taken while a pass runs restores
into a working database)."""

import calendar
import json
import math
import os
import re
import shutil
import stat
import time
import unittest

import vtcsync
from vtcsync import Community

vtcsync.binary()

AT = "@2026-01-01 12:00:00"
LATER = "@2026-01-01 12:10:00"
MUCH_LATER = "@2026-01-01 13:00:00"
EX_USAGE, EX_NOINPUT, EX_IOERR, EX_TEMPFAIL = 64, 66, 74, 75
CLASSES = ("success", "transient", "unreachable", "auth", "permanent",
           "incompatible", "config")


def epoch(when):
    return calendar.timegm(time.strptime(when.lstrip("@"), "%Y-%m-%d %H:%M:%S"))


# -- a strict parser of the Prometheus text exposition format (0.0.4) -------

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class ExpositionError(AssertionError):
    pass


def parse_float(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        raise ExpositionError(f"not a float: {text!r}")
    return float(text)


def parse_labels(text, lineno):
    """'{a="x",b="y"}' body (without braces) -> tuple of (name, value)."""
    labels = []
    i = 0
    while i < len(text):
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", text[i:])
        if not m:
            raise ExpositionError(f"line {lineno}: bad label at {text[i:]!r}")
        name = m.group(1)
        i += m.end()
        value = []
        while True:
            if i >= len(text):
                raise ExpositionError(f"line {lineno}: unterminated label value")
            ch = text[i]
            if ch == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ExpositionError(f"line {lineno}: bad escape \\{nxt}")
                value.append("\n" if nxt == "n" else nxt)
                i += 2
            elif ch == '"':
                i += 1
                break
            elif ch == "\n":
                raise ExpositionError(f"line {lineno}: newline in label value")
            else:
                value.append(ch)
                i += 1
        if any(n == name for n, _ in labels):
            raise ExpositionError(f"line {lineno}: label {name} twice")
        labels.append((name, "".join(value)))
        if i < len(text):
            if text[i] != ",":
                raise ExpositionError(f"line {lineno}: expected ',' in labels")
            i += 1
    return tuple(sorted(labels))


def parse_exposition(text):
    """Returns {family: {"type", "help", "samples": {labels: value}}}; raises
    ExpositionError on anything the format does not allow or that a
    well-behaved exporter should not write."""
    if not text.endswith("\n"):
        raise ExpositionError("the file does not end with a newline")
    families = {}
    seen_series = set()
    current = None  # the family whose samples may follow
    closed = set()  # families whose samples ended
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line == "" or line.strip() != line:
            raise ExpositionError(f"line {lineno}: empty or padded line")
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (\S+) (.*)", line)
            if not m:
                raise ExpositionError(f"line {lineno}: comment other than HELP/TYPE")
            kind, name, rest = m.groups()
            if not METRIC_NAME.match(name):
                raise ExpositionError(f"line {lineno}: bad metric name {name}")
            fam = families.setdefault(name, {"type": None, "help": None, "samples": {}})
            if fam["samples"] or name in closed:
                raise ExpositionError(f"line {lineno}: {kind} for {name} after its samples")
            if kind == "TYPE":
                if fam["type"] is not None or rest not in TYPES:
                    raise ExpositionError(f"line {lineno}: TYPE {rest!r} for {name}")
                fam["type"] = rest
            else:
                if fam["help"] is not None or not rest:
                    raise ExpositionError(f"line {lineno}: HELP for {name}")
                fam["help"] = rest
            if current is not None and current != name:
                closed.add(current)
            current = name
            continue
        m = re.fullmatch(r"([^{ ]+)(?:\{(.*)\})? (\S+)(?: (-?\d+))?", line)
        if not m:
            raise ExpositionError(f"line {lineno}: not a sample: {line!r}")
        name, label_text, value, _timestamp = m.groups()
        if not METRIC_NAME.match(name):
            raise ExpositionError(f"line {lineno}: bad metric name {name}")
        labels = parse_labels(label_text or "", lineno)
        fam = families.get(name)
        if fam is None or fam["type"] is None or fam["help"] is None:
            raise ExpositionError(f"line {lineno}: sample of {name} before its HELP and TYPE")
        if name in closed or current != name:
            raise ExpositionError(f"line {lineno}: samples of {name} not together")
        if (name, labels) in seen_series:
            raise ExpositionError(f"line {lineno}: duplicate series {name}{labels}")
        seen_series.add((name, labels))
        fam["samples"][labels] = parse_float(value)
    for name, fam in families.items():
        if fam["type"] is None or fam["help"] is None:
            raise ExpositionError(f"{name}: HELP or TYPE missing")
        if fam["type"] == "counter" and not name.endswith("_total"):
            raise ExpositionError(f"counter {name} does not end with _total")
    return families


class ParserSelfTest(unittest.TestCase):
    """The parser must reject what the format forbids, or it proves nothing."""

    GOOD = ("# HELP a_total A.\n# TYPE a_total counter\n"
            'a_total{c="x"} 1\na_total{c="y"} 2.5e3\n')

    def test_accepts_a_well_formed_file(self):
        f = parse_exposition(self.GOOD)
        self.assertEqual(f["a_total"]["samples"][(("c", "y"),)], 2500.0)

    def test_rejects(self):
        bad = {
            "sample before TYPE": 'a_total{c="x"} 1\n# HELP a_total A.\n# TYPE a_total counter\n',
            "no HELP": "# TYPE g gauge\ng 1\n",
            "duplicate series": "# HELP g G.\n# TYPE g gauge\ng 1\ng 2\n",
            "counter without _total": "# HELP c C.\n# TYPE c counter\nc 1\n",
            "bad name": "# HELP 1g G.\n# TYPE 1g gauge\n1g 1\n",
            "bad label": '# HELP g G.\n# TYPE g gauge\ng{1a="x"} 1\n',
            "unquoted label": "# HELP g G.\n# TYPE g gauge\ng{a=x} 1\n",
            "bad value": "# HELP g G.\n# TYPE g gauge\ng one\n",
            "no final newline": "# HELP g G.\n# TYPE g gauge\ng 1",
            "split family": ("# HELP g G.\n# TYPE g gauge\ng{a=\"1\"} 1\n"
                             "# HELP h H.\n# TYPE h gauge\nh 1\ng{a=\"2\"} 1\n"),
            "other comment": "# hello\n",
        }
        for what, text in bad.items():
            with self.subTest(what):
                with self.assertRaises(ExpositionError):
                    parse_exposition(text)


# -- metrics ----------------------------------------------------------------

class Metrics(vtcsync.RegistryTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.community(sync={"max_jobs_per_pass": 100})
        self.metrics_dir = self.c.dir / "textfile"
        self.metrics_dir.mkdir()
        self.prom = self.metrics_dir / "vtc-sync.prom"
        self.c.write_config(metrics={"textfile": str(self.prom)})

    def tick(self, when, *args):
        return self.c.tick(*args, wrapper=("faketime", "-f", when))

    def read(self):
        families = parse_exposition(self.prom.read_text())
        for name in families:
            self.assertTrue(name.startswith("vtc_sync_"), name)
        # Only the file itself: the temporary file was renamed.
        self.assertEqual(os.listdir(self.metrics_dir), ["vtc-sync.prom"])
        return families

    @staticmethod
    def value(families, name, **labels):
        return families[name]["samples"].get(tuple(sorted(labels.items())))

    def test_a_pass_writes_what_it_did_and_counters_survive_passes(self):
        # Two permanent answers fail two jobs (76); the rest succeed.
        self.registry.inject(method="PUT", status=400, times=2)
        code, _, err = self.tick(AT)
        self.assertEqual(code, 76, err)
        f = self.read()
        db = self.c.db
        states = {s: db.scalar("SELECT count(*) FROM jobs WHERE state = ?", (s,))
                  for s in ("pending", "in_flight", "failed")}
        self.assertEqual(states["failed"], 2)
        for s, n in states.items():
            self.assertEqual(self.value(f, "vtc_sync_jobs", state=s), n, s)
        answered = self.registry.requests()
        ok = sum(1 for r in answered if r["status"] in (200, 204))
        self.assertEqual(self.value(f, "vtc_sync_requests_total", **{"class": "success"}), ok)
        self.assertEqual(self.value(f, "vtc_sync_requests_total", **{"class": "permanent"}), 2)
        for cls in CLASSES:
            self.assertIsNotNone(self.value(f, "vtc_sync_requests_total", **{"class": cls}), cls)
        self.assertEqual(f["vtc_sync_requests_total"]["type"], "counter")
        self.assertEqual(self.value(f, "vtc_sync_last_run_exit_code"), 76)
        run = self.value(f, "vtc_sync_last_run_timestamp_seconds")
        self.assertGreaterEqual(run, epoch(AT))
        self.assertLess(run, epoch(AT) + 60)
        # Never a successful pass yet: no sample.
        self.assertEqual(f["vtc_sync_last_success_timestamp_seconds"]["samples"], {})
        duration = self.value(f, "vtc_sync_pass_duration_seconds")
        self.assertTrue(0 <= duration < 60, duration)
        self.assertEqual(self.value(f, "vtc_sync_breaker_open"), 0)
        self.assertEqual(self.value(f, "vtc_sync_audit_lag_bytes"), 0)
        # Carol's RTBF delete waits for its window: pending, not yet due.
        self.assertEqual(self.value(f, "vtc_sync_oldest_due_job_age_seconds"), 0)

        # Retry the failed jobs; the next pass succeeds and counts on.
        code, _, err = self.c.run("queue", "retry", "--all-failed", "--yes",
                                  wrapper=("faketime", "-f", AT))
        self.assertEqual(code, 0, err)
        code, _, err = self.tick(LATER)
        self.assertEqual(code, 0, err)
        f = self.read()
        self.assertEqual(self.value(f, "vtc_sync_jobs", state="failed"), 0)
        self.assertEqual(self.value(f, "vtc_sync_requests_total", **{"class": "success"}), ok + 2)
        self.assertEqual(self.value(f, "vtc_sync_requests_total", **{"class": "permanent"}), 2)
        self.assertEqual(self.value(f, "vtc_sync_last_run_exit_code"), 0)
        success = self.value(f, "vtc_sync_last_success_timestamp_seconds")
        self.assertGreaterEqual(success, epoch(LATER))
        self.assertEqual(success, self.value(f, "vtc_sync_last_run_timestamp_seconds"))

    def test_every_request_is_counted_probes_included(self):
        # The registry fails everything: 4 requests in the first pass, the
        # 5th in the next opens the breaker; a pass after the breaker's
        # time sends a probe (a GET), which is a request too. The probe's
        # pass stays within registry.degraded_after_seconds (1 h) of the
        # first failure, so it exits 0, not 69.
        self.registry.inject(status=503, times=-1)
        probe_time = "@2026-01-01 12:30:00"  # the breaker's 30 s have passed
        expected = [(AT, 4, 0), (LATER, 5, 1), (probe_time, 6, 1)]
        for when, transient, breaker in expected:
            with self.subTest(when=when):
                code, _, err = self.tick(when)
                self.assertEqual(code, 0, err)
                f = self.read()
                self.assertEqual(self.value(f, "vtc_sync_breaker_open"), breaker)
                self.assertEqual(self.value(f, "vtc_sync_requests_total",
                                            **{"class": "transient"}), transient)
                counted = sum(f["vtc_sync_requests_total"]["samples"].values())
                self.assertEqual(counted, len(self.registry.requests()))
        self.assertEqual(self.registry.requests()[-1]["method"], "GET")

    def test_idle_pass_updates_the_file_not_the_database_and_failures_keep_last_success(self):
        code, _, err = self.tick(AT)
        self.assertEqual(code, 0, err)
        before = vtcsync.file_state(self.c.db_path)
        code, _, err = self.tick(LATER)  # nothing new, nothing due
        self.assertEqual(code, 0, err)
        self.assertEqual(vtcsync.file_state(self.c.db_path), before)
        f = self.read()
        idle_success = self.value(f, "vtc_sync_last_success_timestamp_seconds")
        self.assertGreaterEqual(idle_success, epoch(LATER))

        # The audit log disappears: 74, and the last success stays the idle
        # pass's, which only the file remembers.
        self.c.audit.rename(self.c.dir / "gone.jsonl")
        code, _, err = self.tick(MUCH_LATER)
        self.assertEqual(code, EX_IOERR, err)
        f = self.read()
        self.assertEqual(self.value(f, "vtc_sync_last_run_exit_code"), EX_IOERR)
        self.assertGreaterEqual(self.value(f, "vtc_sync_last_run_timestamp_seconds"),
                                epoch(MUCH_LATER))
        self.assertEqual(self.value(f, "vtc_sync_last_success_timestamp_seconds"),
                         idle_success)
        # The log could not be read: no lag sample rather than a wrong one.
        self.assertEqual(f["vtc_sync_audit_lag_bytes"]["samples"], {})

    def test_only_the_pass_holding_the_lock_writes(self):
        code, _, err = self.tick(AT)
        self.assertEqual(code, 0, err)
        written = self.prom.read_bytes()
        st = os.stat(self.prom)
        lock = self.c.lock()
        try:
            code, _, err = self.tick(LATER)
            self.assertEqual(code, EX_TEMPFAIL, err)
        finally:
            lock.close()
        for args in (("status",), ("queue", "list"), ("outcomes", "list"),
                     ("tick", "--dry-run")):
            with self.subTest(args=args):
                self.c.run(*args)
        self.assertEqual(self.prom.read_bytes(), written)
        self.assertEqual(os.stat(self.prom).st_mtime_ns, st.st_mtime_ns)
        self.assertEqual(os.stat(self.prom).st_ino, st.st_ino)

    def test_an_unwritable_metrics_directory_is_an_io_error(self):
        self.c.write_config(metrics={"textfile": str(self.c.dir / "missing" / "m.prom")})
        code, _, err = self.tick(AT)
        self.assertEqual(code, EX_IOERR, err)
        errors = vtcsync.error_lines(err)
        self.assertEqual(len(errors), 1, err)
        self.assertIn("metrics.textfile", errors[0])
        self.assertIn("missing/m.prom", errors[0])
        # The pass itself did its work.
        self.assertGreater(self.c.db.cursor_line(), 0)


# -- backup -------------------------------------------------------------------

class Backup(vtcsync.RegistryTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.community(registry={"concurrency": 1},
                                sync={"max_jobs_per_pass": 2})
        self.out = self.c.dir / "backups"
        self.out.mkdir()

    def run_at(self, *args, when=AT, c=None):
        return (c or self.c).run(*args, wrapper=("faketime", "-f", when))

    def generation(self, c):
        code, out, err = self.run_at("status", "--json", c=c)
        self.assertEqual(code, 0, err)
        return json.loads(out)["generation"]

    def test_backup_during_a_pass_restores_into_a_working_database(self):
        code, _, err = self.run_at("tick")
        self.assertEqual(code, 0, err)
        first_outcomes = vtcsync.comparable_outcomes(self.c.db)
        self.assertIn("succeeded", [o[0] for o in first_outcomes])
        original_generation = self.generation(self.c)

        # The next pass's requests hang for a while: a pass in progress,
        # with a job claimed (in_flight) in the database.
        self.registry.set_latency(3000)
        sent_before = len(self.registry.requests())
        env = vtcsync.faketime_env(LATER)
        tick = self.c.start("tick", env=env)
        try:
            vtcsync.poll(lambda: len(self.registry.requests()) > sent_before
                         or tick.poll() is not None, 30, what="the pass's first request")
            self.assertIsNone(tick.poll(), "the pass ended before the backup")
            target = self.out / "state-copy.db"
            started = time.monotonic()
            code, _, err = self.run_at("backup", target, when=LATER)
            self.assertEqual(code, 0, err)
            self.assertIsNone(tick.poll(), "the backup did not overlap the pass")
            self.assertLess(time.monotonic() - started, 3.0, "the backup waited for the pass")
            self.registry.set_latency(0)
        finally:
            _, tick_err = tick.communicate(timeout=60)
        self.assertEqual(tick.returncode, 0, tick_err)

        # A complete, single file: no journal beside it, owner-only.
        self.assertEqual(sorted(os.listdir(self.out)), ["state-copy.db"])
        self.assertEqual(stat.S_IMODE(os.stat(target).st_mode), 0o600)
        copy_db = vtcsync.Db(target)
        self.assertEqual(copy_db.integrity(), "ok")
        self.assertEqual(copy_db.scalar("PRAGMA journal_mode"), "delete")
        # Taken mid-pass: the claimed job shows as in flight.
        self.assertEqual(copy_db.scalar(
            "SELECT count(*) FROM jobs WHERE state = 'in_flight'"), 1)
        # Outcomes intact: what the first pass recorded, and a prefix of the
        # original's now.
        copied = vtcsync.comparable_outcomes(copy_db)
        self.assertEqual(copied[:len(first_outcomes)], first_outcomes)
        self.assertEqual(vtcsync.comparable_outcomes(self.c.db)[:len(copied)], copied)

        # Restore: the copy as another host's state.db; a tick works on it.
        restored = Community(registry_url=self.registry.url,
                             extra={"registry": {"concurrency": 1}})
        self.addCleanup(restored.cleanup)
        shutil.copyfile(target, restored.db_path)
        code, _, err = self.run_at("tick", when=MUCH_LATER, c=restored)
        self.assertEqual(code, 0, err)
        self.assertIn("recovered 1 job(s)", err)
        new_generation = self.generation(restored)
        self.assertRegex(new_generation, r"^[0-9a-f]{32}$")
        self.assertNotEqual(new_generation, original_generation)
        self.assertEqual(self.generation(self.c), original_generation)
        self.assertEqual(restored.db.integrity(), "ok")
        self.assertEqual(vtcsync.comparable_outcomes(restored.db)[:len(copied)], copied)

    def test_refusals_create_and_change_nothing(self):
        code, _, err = self.run_at("tick")
        self.assertEqual(code, 0, err)
        existing = self.out / "existing.db"
        existing.write_bytes(b"keep me")
        missing_db = Community(registry_url=self.registry.url)
        self.addCleanup(missing_db.cleanup)
        cases = [
            # (community, target, exit code, stderr contains)
            (self.c, existing, EX_USAGE, "exists"),
            (self.c, self.out / "no-such-dir" / "x.db", EX_IOERR, "no-such-dir"),
            (missing_db, self.out / "from-missing.db", EX_NOINPUT, "does not exist"),
        ]
        for c, target, code, err_has in cases:
            with self.subTest(target=target.name):
                got, out, err = self.run_at("backup", target, c=c)
                self.assertEqual(got, code, err)
                self.assertEqual(out, "")
                errors = vtcsync.error_lines(err)
                self.assertEqual(len(errors), 1, err)
                self.assertIn(err_has, errors[0])
        self.assertEqual(existing.read_bytes(), b"keep me")
        self.assertEqual(sorted(os.listdir(self.out)), ["existing.db"])
        self.assertFalse(missing_db.db_path.exists())
        code, _, err = self.run_at("backup")
        self.assertEqual(code, EX_USAGE, err)


if __name__ == "__main__":
    unittest.main()
