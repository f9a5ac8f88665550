"""Faults with a running VTC as the audit source (audit.source a URL):

- crash: hundreds of passes against a slow test VTC (latency on every
  audit page, small pages) and a slow registry, SIGKILLed at random
  moments -- during the login, while paging back to the cursor, while the
  staged entries are applied, during dispatch -- with the VTC's log growing
  between passes and the faked clock moving on; then clean passes until
  idle. After every pass the database passes integrity_check, no job has
  two terminal outcomes and no registry key is reused or written twice. At
  the end: the same registry, members, cursor, walk outcomes and set of
  ended jobs as an uninterrupted run of the same log read as a file, so
  every entry was applied exactly once.
- overlap: two passes started together on one database: one works, the
  other exits 75 without logging in to the VTC (a login would end the
  working pass's session); nothing is applied twice.
- memory: a first walk of 200,000 entries over REST (pages of 200) stays
  under 64 MB peak RSS.

In the crash test the passes run under a faked clock (libfaketime) that
moves a minute a pass, so backoffs and RTBF windows pass; the test VTC
judges their id_tokens (iat, exp) by its own clock, so its time.time() is
moved along with theirs (ClockedVtc). The other two run on real clocks.

VTC_SYNC_FAULT_SEED replays a run; VTC_SYNC_LONG_TESTS=1 runs 1000 crash
passes over 10,000 entries instead of 200 over 2,000, and 20 overlap rounds
instead of 6."""

import collections
import json
import os
import pathlib
import sqlite3
import statistics
import subprocess
import sys
import time
import unittest

import faults
import vtcsync
from registry import Registry
from vtc import Vtc, did_key_of_pem
from vtcsync import EX_OK, EX_TEMPFAIL, Community

vtcsync.binary()

LONG = faults.long_tests()

# -- crash --
PASSES = 1000 if LONG else 200
ENTRIES = 10_000 if LONG else 2_000
# Few members, so the live jobs (one per member) drain in 50 passes of
# max_jobs_per_pass, here and in the reference run.
MEMBERS = 200
PAGE_SIZE = 50
VTC_LATENCY_MS = 20         # every /audit answer
REGISTRY_LATENCY_MS = 25
STEP = 60                   # faked seconds between passes: > max_backoff_seconds
CONFIG = {
    "registry": {"concurrency": 4},
    "sync": {"max_jobs_per_pass": 12, "max_attempts": 100,
             "max_backoff_seconds": 30, "rtbf_batch_window_hours": 1},
}
KILL_SHARE = 0.85
FIRST_KILL_DELAY = 0.15
# Growth between passes: mostly a few entries, sometimes a burst of several
# pages; on average the whole log is out after about 85% of the passes.
BURST_SHARE = 0.06
BURST = (40, 250)           # entries: up to 5 pages
TRICKLE = (0, 8)

# -- overlap --
ROUNDS = 20 if LONG else 6
ROUND_ENTRIES = 60
OVERLAP_LATENCY_MS = 150
OVERLAP_CONFIG = {
    "registry": {"concurrency": 1},
    "sync": {"max_jobs_per_pass": 5000, "rtbf_batch_window_hours": 0},
}
LOCK_ANSWER_SECONDS = 20.0 if os.environ.get("VTC_TEST_SANITIZED") else 5.0

# -- memory --
MEMORY_ENTRIES = 200_000
MEMORY_LIMIT_KIB = 64 * 1024


# Loaded by the test VTC's Python at start-up (sitecustomize): time.time(),
# the only clock the server judges id_tokens, challenges and access tokens
# by, runs the seconds in the offset file ahead of the real clock.
# (libfaketime cannot serve here: under it Python's time.sleep, which the
# server's latency uses, fails with EINVAL.)
CLOCK_HOOK = """\
import os
import time

_real_time = time.time
_offset_file = os.environ["VTC_TEST_CLOCK_OFFSET_FILE"]


def _faked_time():
    with open(_offset_file) as f:
        return _real_time() + float(f.read())


time.time = _faked_time
"""


class ClockedVtc(Vtc):
    """The test VTC on the passes' faked clock: set_clock(t) sets its wall
    clock to faults.T0 + t seconds, from where it runs on in real time, as
    a pass's clock does under faults.clock_env(t)."""

    def __init__(self, log_path, vtc_did, acl, clock_dir, **kw):
        super().__init__(log_path, vtc_did, acl, **kw)
        self.admin = next(iter(acl))
        self.clock_dir = pathlib.Path(clock_dir)
        self.clock_dir.mkdir()
        (self.clock_dir / "sitecustomize.py").write_text(CLOCK_HOOK)
        self.offset_file = self.clock_dir / "offset"
        self.set_clock(0)

    def set_clock(self, seconds_after_t0):
        offset = faults.T0_EPOCH + seconds_after_t0 - time.time()
        tmp = self.clock_dir / "offset.tmp"
        tmp.write_text(f"{offset:.6f}\n")
        os.replace(tmp, self.offset_file)

    def start(self):
        # Vtc.start() hands this process's environment on.
        saved = dict(os.environ)
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = str(self.clock_dir) + (os.pathsep + path if path else "")
        os.environ["VTC_TEST_CLOCK_OFFSET_FILE"] = str(self.offset_file)
        try:
            super().start()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        # The hook is in: a challenge expires at the faked time plus its
        # lifetime. (reset() forgets that challenge.)
        expires = self.challenge(self.admin).json()["expiresAt"]
        if not str(expires).startswith(time.strftime("%Y-%m-%d", time.gmtime(faults.T0_EPOCH))):
            raise AssertionError(f"the test VTC's clock is not faked: expiresAt {expires}")
        self.reset()
        return self


def vtc_community(test, registry_url, extra, prefix):
    """A Community whose audit log is served by a VTC (started by the caller
    on c.audit): an identity of its own, and point_at(vtc) for the config."""
    c = Community(log=None, registry_url=registry_url, extra=extra, prefix=prefix)
    test.addCleanup(c.cleanup)
    c.audit.write_bytes(b"")
    c.identity = c.dir / "id.pem"
    rc, out, err = vtcsync.run("identity", "--generate", c.identity)
    test.assertEqual(rc, EX_OK, err)
    c.did_key = out.strip()
    test.assertEqual(c.did_key, did_key_of_pem(c.identity))
    return c


def point_at(c, vtc, page_size=None):
    c.extra.setdefault("audit", {}).update(
        source=vtc.url, identity_file=str(c.identity), page_size=page_size)
    c.write_config()


def vtc_errors(vtc):
    """The test VTC's stderr (handler errors), for a failure message."""
    text = vtc.stderr_text().strip()
    return f"\ntest VTC stderr:\n{text[-3000:]}" if text else ""


def append_lines(path, lines):
    with open(path, "ab") as f:
        f.write(b"".join(l + b"\n" for l in lines))


def migrated(c):
    """True once a pass has created the database's schema."""
    if not c.db_path.exists():
        return False
    try:
        return c.db.scalar("PRAGMA user_version") >= 1
    except sqlite3.Error:
        return False


def classify(c, vtc_reqs, reg_reqs, visible):
    """Where a kill landed, from the VTC's and the registry's request logs
    of this pass (taken at the kill) and what the database shows
    afterwards. A kill may count under more than one heading."""
    if not migrated(c):
        return {"before the database was created"}, set()
    where = set()
    routes = [r["route"] for r in vtc_reqs]
    logged_in = any(r["route"] == "authenticate" and r["status"] == 200
                    for r in vtc_reqs)
    committed = c.db.cursor_line() >= visible
    if not vtc_reqs:
        where.add("before the login")
    elif not logged_in:
        where.add("during the login")
    elif not committed:
        audit = [r for r in vtc_reqs if r["route"] == "audit"]
        if not audit:
            where.add("after the login, before the first page")
        elif audit[-1]["status"] is None:
            where.add("waiting for the idle check" if audit[-1]["query"] == "limit=1"
                      else "waiting for a page (paging back to the cursor)")
        else:
            where.add("between pages, or applying the staged entries")
    in_flight = {j["id"] for j in c.db.jobs() if j["state"] == "in_flight"}
    # Keys are <job id>/<digest>: the jobs whose requests reached the registry.
    received = {vtcsync.key_job(r["idempotency_key"]) for r in reg_reqs
                if r["idempotency_key"]}
    if committed and "audit" in routes:
        if in_flight - received:
            where.add("between claim and send")
        if any(r["status"] is None for r in reg_reqs):
            where.add("during a send (request at the registry)")
        if any(r["status"] is not None and r["idempotency_key"]
               and vtcsync.key_job(r["idempotency_key"]) in in_flight
               for r in reg_reqs):
            where.add("answered, not yet committed")
        if not where:
            where.add("after the walk, sends committed or none sent"
                      if reg_reqs else "after the walk, before any send")
    return where, in_flight


class VtcCrash(unittest.TestCase):
    def test_random_sigkills(self):
        seed, rng = faults.seeded("vtc crash")
        with Registry(latency_ms=REGISTRY_LATENCY_MS) as reg:
            c = vtc_community(self, reg.url, CONFIG, "vtc-vcrash-")
            full = c.dir / "full.jsonl"
            c.gen_audit("--entries", ENTRIES, "--members", MEMBERS,
                        "--min-gap-ms", 1, "--seed", seed % 100000,
                        "--start-time", "2026-01-01T00:00:00Z", "-o", full)
            lines = vtcsync.log_lines(full)
            with ClockedVtc(c.audit, c.did, {c.did_key: "admin"},
                            c.dir / "vtc-clock") as vtc:
                vtc.set_latency(VTC_LATENCY_MS)
                point_at(c, vtc, page_size=PAGE_SIZE)
                try:
                    self.run_passes(c, reg, vtc, rng, lines)
                except AssertionError as e:
                    raise AssertionError(f"{e} (VTC_SYNC_FAULT_SEED={seed})"
                                         f"{vtc_errors(vtc)}") from None

    def run_passes(self, c, reg, vtc, rng, lines):
        shown = 0
        kills = collections.Counter()
        # The keys of jobs a kill left in flight: their requests may repeat.
        repeatable = vtcsync.KeysOfJobs()
        ended = killed = held_rtbf = pages_max = 0
        lengths = collections.deque(maxlen=15)
        # The VTC's request log is read and cleared after every pass (a
        # reset also forgets challenges and sessions, which no later pass
        # could use anyway); the registry's is read whole, once a pass.
        vtc_all, reg_all = [], []
        t = 0
        for n in range(PASSES):
            if shown < len(lines):
                more = rng.randint(*(BURST if rng.random() < BURST_SHARE
                                     else TRICKLE))
                append_lines(c.audit, lines[shown:shown + more])
                shown = min(len(lines), shown + more)
            vtc.set_clock(t)
            vtc.reset()
            reg_seen = len(reg_all)
            p = subprocess.Popen(
                [vtcsync.binary(), *c.args("tick")],
                env=vtcsync.clean_env(faults.clock_env(t)),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
            kill = rng.random() < KILL_SHARE
            typical = statistics.median(lengths) if lengths else FIRST_KILL_DELAY
            delay = rng.uniform(0, 1.2 * typical)
            started = time.monotonic()
            try:
                _, err = p.communicate(timeout=delay if kill else 120)
                lengths.append(time.monotonic() - started)
                ended += 1
                self.assertEqual(p.returncode, EX_OK, f"pass {n}: {err.decode()}")
            except subprocess.TimeoutExpired:
                vtcsync.sigkill(p)
                vtc_at_kill = vtc.requests()
                reg_at_kill = reg.requests()[reg_seen:]
                p.communicate()
                killed += 1
                where, in_flight = classify(c, vtc_at_kill, reg_at_kill, shown)
                repeatable |= in_flight
                for w in where:
                    kills[w] += 1
            this_pass = vtc.requests()
            vtc_all += this_pass
            pages_max = max(pages_max, sum(1 for r in this_pass if r["route"] == "audit"))
            reg_all = reg.requests()
            if not migrated(c):
                t += STEP
                continue
            held_rtbf = max(held_rtbf, c.db.scalar(
                "SELECT count(*) FROM jobs WHERE rtbf = 1 AND due > ?",
                ((faults.T0_EPOCH + t) * 10**9,)))
            self.assertLessEqual(c.db.cursor_line(), shown, f"after pass {n}")
            self.assertEqual(c.db.integrity(), "ok", f"after pass {n}")
            self.assertEqual(faults.terminal_problems(c.db), [], f"after pass {n}")
            self.assertEqual(faults.request_problems(reg_all, repeatable),
                             [], f"after pass {n}")
            t += STEP

        # The rest of the log, then clean passes until nothing is left.
        append_lines(c.audit, lines[shown:])
        drained, t = self.drain(c, vtc, t, vtc_all)
        vtc.set_clock(t)
        vtc.reset()
        rc, _, err = c.tick("-q", env=faults.clock_env(t))
        self.assertEqual((rc, err), (0, ""), "the last pass is idle")
        vtc_all += vtc.requests()
        self.assertEqual(c.db.integrity(), "ok")
        self.assertEqual(faults.terminal_problems(c.db), [])
        requests = reg.requests()
        self.assertEqual(faults.request_problems(requests, repeatable), [])
        for r in requests:
            if r["method"] in ("PUT", "DELETE"):
                vtcsync.assert_key(r["idempotency_key"], round=0)
        self.assertEqual([r for r in requests if r["status"] not in (200, 204)
                          and not (r["method"] == "DELETE" and r["status"] == 404)],
                         [], "every registry request answered with success")
        self.assertEqual([(r["route"], r["status"]) for r in vtc_all
                          if isinstance(r["status"], int) and r["status"] != 200], [],
                         "the VTC answered something other than 200")

        # Every entry once: the cursor is the log's last entry, and the
        # state is that of one uninterrupted walk of the same log as a file.
        cursor = c.db.cursor()
        last = json.loads(lines[-1])
        self.assertEqual((cursor["line"], cursor["event_id"], cursor["entry_hash"]),
                         (len(lines), last["event_id"], last["entry_hash"]))
        want = faults.reference(self, c.audit, t, extra=CONFIG)
        faults.assert_same_as_reference(self, faults.summary(c, reg), want)
        self.assertEqual(sorted(p.name for p in c.dir.iterdir()
                                if p.name.startswith(".vtc-sync-stage")), [],
                         "staging files left behind")
        self.assertGreater(killed, PASSES // 2, "too few kills landed")
        self.assertGreater(held_rtbf, 0, "no RTBF delete was ever held")
        for w in ("waiting for a page (paging back to the cursor)",
                  "between pages, or applying the staged entries"):
            self.assertGreater(kills[w], 0, f"no kill landed {w}")
        logins = sum(1 for r in vtc_all if r["route"] == "authenticate"
                     and r["status"] == 200)
        repeats = sum(1 for k, v in collections.Counter(
            r["idempotency_key"] for r in requests).items() if v > 1)
        sys.stderr.write(
            f"vtc crash: {PASSES} passes, {killed} killed, {ended} ended by "
            f"themselves, {drained} draining passes; {len(lines)} entries in "
            f"pages of {PAGE_SIZE} (up to {pages_max} pages in a pass), "
            f"{logins} logins, {len(want['terminal'])} jobs ended once each, "
            f"{len(requests)} registry requests, {repeats} keys repeated after "
            f"a kill, up to {held_rtbf} RTBF deletes held at once, 0 lost, "
            f"0 duplicated\n")
        for where, count in sorted(kills.items(), key=lambda kv: -kv[1]):
            sys.stderr.write(f"  kills {where}: {count}\n")

    def drain(self, c, vtc, t, vtc_all, step=3600, max_passes=50):
        """faults.drain, with the VTC's clock moved along."""
        for n in range(1, max_passes + 1):
            vtc.set_clock(t)
            vtc.reset()
            rc, _, err = c.tick(env=faults.clock_env(t))
            vtc_all += vtc.requests()
            self.assertEqual(rc, EX_OK, f"draining pass {n}: {err}")
            t += step
            if (c.db.scalar("SELECT count(*) FROM jobs") == 0
                    and c.db.cursor_line() == len(c.lines())):
                return n, t
        self.fail(f"jobs left after {max_passes} draining passes: {c.db.jobs()}")


class VtcOverlap(unittest.TestCase):
    def test_two_passes_at_once(self):
        seed, rng = faults.seeded("vtc overlap")
        with Registry() as reg:
            c = vtc_community(self, reg.url, OVERLAP_CONFIG, "vtc-voverlap-")
            full = c.dir / "full.jsonl"
            c.gen_audit("--entries", ROUNDS * ROUND_ENTRIES, "--members",
                        ROUNDS * 10, "--min-gap-ms", 1, "--seed", seed % 100000,
                        "-o", full)
            lines = vtcsync.log_lines(full)
            with Vtc(c.audit, c.did, {c.did_key: "admin"}) as vtc:
                vtc.set_latency(OVERLAP_LATENCY_MS)
                point_at(c, vtc, page_size=PAGE_SIZE)
                try:
                    self.rounds(c, reg, vtc, rng, lines)
                except AssertionError as e:
                    raise AssertionError(f"{e} (VTC_SYNC_FAULT_SEED={seed})") from None

    def rounds(self, c, reg, vtc, rng, lines):
        for n in range(ROUNDS):
            append_lines(c.audit, lines[n * ROUND_ENTRIES:(n + 1) * ROUND_ENTRIES])
            seen = len(vtc.requests())
            procs = []
            for _ in range(2):
                procs.append((time.monotonic(), c.start("tick")))
                if rng.random() < 0.5:
                    time.sleep(rng.uniform(0, 0.02))
            results = []
            for started, p in procs:
                out, err = p.communicate(timeout=120)
                results.append((p.returncode, err.decode(), time.monotonic() - started))
            self.assertEqual(sorted(rc for rc, _, _ in results), [EX_OK, EX_TEMPFAIL],
                             f"round {n}: {results}")
            for rc, err, elapsed in results:
                if rc == EX_TEMPFAIL:
                    self.assertIn(".lock", err)
                    self.assertLess(elapsed, LOCK_ANSWER_SECONDS, "75 at once")
            this_round = vtc.requests()[seen:]
            self.assertEqual(
                [r["route"] for r in this_round if r["route"] != "audit"],
                ["challenge", "authenticate"],
                f"round {n}: one login only (the refused pass never logs in)")
            self.assertEqual({r["status"] for r in this_round}, {200}, f"round {n}")
            self.assertEqual(c.db.cursor_line(), (n + 1) * ROUND_ENTRIES, f"round {n}")
            self.assertEqual(c.db.integrity(), "ok")
            self.assertEqual(faults.terminal_problems(c.db), [])
            self.assertEqual(faults.request_problems(reg.requests()), [], f"round {n}")

        # Real clocks here (the VTC judges id_tokens by its own): the jobs
        # need no backoff or RTBF window to pass.
        for _ in range(10):
            if c.db.scalar("SELECT count(*) FROM jobs") == 0:
                break
            rc, _, err = c.tick()
            self.assertEqual(rc, EX_OK, err)
        self.assertEqual(c.db.jobs(), [])
        self.assertEqual(faults.request_problems(reg.requests()), [])
        want = faults.reference(self, c.audit, 0, extra=OVERLAP_CONFIG)
        faults.assert_same_as_reference(self, faults.summary(c, reg), want)
        sys.stderr.write(
            f"vtc overlap: {ROUNDS} rounds of two passes: one worked, one "
            f"exited 75 without logging in; {len(lines)} entries, "
            f"{len(want['terminal'])} jobs ended once each, 0 duplicated\n")


# Runs argv[1:] with stdin and stdout on /dev/null and prints its exit code
# and peak RSS (KiB). wait4() on a child this test process starts directly
# would not do: the child starts as a vfork of this process, and at exec the
# kernel carries the old address space's peak RSS over into the child's --
# after the crash test, tens of MB that are this process's, not vtc-sync's.
# The probe is a small fresh Python (about 10 MB), so what it carries over
# stays far below the walk's own figure.
RSS_PROBE = """\
import os, sys
devnull = os.open(os.devnull, os.O_RDWR)
actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)]
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


class VtcMemory(unittest.TestCase):
    def test_first_walk_peak_rss(self):
        c = vtc_community(self, vtcsync.LOOPBACK_REGISTRY, None, "vtc-vmem-")
        started = time.monotonic()
        c.gen_audit("--entries", MEMORY_ENTRIES, "--members", MEMORY_ENTRIES // 10,
                    "--min-gap-ms", 1, "--seed", 3, "-o", c.audit)
        generated = time.monotonic() - started
        with Vtc(c.audit, c.did, {c.did_key: "admin"}, start_timeout=30) as vtc:
            point_at(c, vtc)
            started = time.monotonic()
            p = subprocess.run(
                [sys.executable, "-c", RSS_PROBE, vtcsync.binary(),
                 *c.args("tick", "--max-seconds", "3600")],
                env=vtcsync.clean_env(), stdin=subprocess.DEVNULL,
                capture_output=True, timeout=600)
            walked = time.monotonic() - started
            pages = len(vtc.requests("audit"))
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 0, err)
        rc, peak_kib = map(int, p.stdout.split())
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(c.db.cursor_line(), MEMORY_ENTRIES, err)
        self.assertEqual(pages, -(-MEMORY_ENTRIES // 200), "pages of 200")
        sys.stderr.write(
            f"vtc memory: first walk of {MEMORY_ENTRIES:,} entries in {pages} "
            f"pages: peak RSS {peak_kib / 1024:.1f} MB, {walked:.1f} s "
            f"(generating the log {generated:.1f} s)\n")
        self.assertLess(peak_kib, MEMORY_LIMIT_KIB, "peak RSS (KiB)")


if __name__ == "__main__":
    unittest.main()
