"""End to end: tick --dry-run shows what a pass would do — the same
jobs and requests the real pass then makes — while sending nothing, writing
nothing (the database file byte for byte), running beside a pass that holds
the lock, and exiting with the code the walk would give."""

import hashlib
import json
import os
import pathlib
import sqlite3
import time
import unittest
import urllib.parse

import vtcsync

AT = "@2026-01-01 12:00:00"  # before Carol's RTBF window ends
LATER = "@2026-01-01 12:00:10"  # jobs the first pass made are due
EX_USAGE, EX_DATAERR, EX_IOERR, EX_CONFIG = 64, 65, 74, 78
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def files_of(directory):
    """Every file's name and SHA-256 (the lock file aside)."""
    out = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path) and not name.endswith(".lock"):
            with open(path, "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


class DryRun(vtcsync.RegistryTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.community()

    def run_at(self, *args, when=AT):
        return self.c.run(*args, wrapper=("faketime", "-f", when))

    def dry_json(self, when=AT):
        code, out, err = self.run_at("tick", "--dry-run", "--json", when=when)
        doc = json.loads(out)
        self.assertEqual(doc["exit_code"], code)
        return code, doc, err

    def assert_unchanged(self, files_before):
        """The database file byte for byte, every other file too; a reader
        may leave SQLite's empty WAL and its index beside it."""
        after = files_of(self.c.dir)
        empty = hashlib.sha256(b"").hexdigest()
        self.assertEqual(after.pop("state.db-wal", empty), empty)
        after.pop("state.db-shm", None)
        files_before.pop("state.db-shm", None)
        files_before.pop("state.db-wal", None)
        self.assertEqual(after, files_before)

    def sent(self):
        return [(r["method"], r["path"], r["idempotency_key"])
                for r in self.registry.requests() if r["method"] != "GET"]

    def test_first_pass_plan_is_what_the_real_pass_does(self):
        code, plan, err = self.dry_json()
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        self.assertFalse(self.c.db_path.exists(), "a dry run created the database")
        self.assertEqual(self.registry.requests(), [])
        self.assertFalse(plan["database_exists"])
        self.assertEqual(plan["walk"]["entries"], len(self.c.lines()))
        self.assertTrue(plan["walk"]["complete"])

        code, _, err = self.run_at("tick")
        self.assertEqual(code, 0, err)
        planned = [(q["method"], urllib.parse.urlsplit(q["url"]).path,
                    q["idempotency_key"]) for q in plan["requests"]]
        self.assertTrue(planned)
        self.assertEqual(sorted(planned), sorted(self.sent()))
        # Each planned request names its job in its key, <job id>/<digest>,
        # and no two requests share one.
        keys = [vtcsync.assert_key(k, round=0) for _, _, k in planned]
        self.assertEqual(len(set(keys)), len(keys))
        self.assertLessEqual({vtcsync.key_job(k) for k in keys},
                             {j["id"] for j in plan["created"]})

        db = self.c.db
        superseded = {r["job_id"] for r in db.query(
            "SELECT job_id FROM outcomes WHERE kind = 'superseded'")}
        self.assertEqual({j["id"] for j in plan["superseded"]}, superseded)
        made = {r["id"] for r in db.query("SELECT id FROM jobs")}
        made |= {r["job_id"] for r in db.query(
            "SELECT job_id FROM outcomes WHERE kind IN "
            "('superseded', 'succeeded', 'skipped')")}
        self.assertEqual({j["id"] for j in plan["created"]}, made)

    def test_a_replacing_job_keeps_its_place_in_the_plan(self):
        # Bob joins and changes role in one walk: his update keeps the due
        # time of his publish, as the store gives it. Carol's self-purge is
        # a delete held to the end of its RTBF window instead.
        code, plan, err = self.dry_json()
        self.assertEqual(code, 0, err)
        made = plan["created"]
        [update] = [j for j in made if j["kind"] == "update"]
        [bob] = [j for j in made if j["kind"] == "publish"
                 and j["member"] == update["member"]]
        self.assertEqual(update["due"], bob["due"])
        # The clock runs: a job that replaces none is due when it was read.
        erin = made[-1]
        self.assertEqual(erin["kind"], "publish")
        self.assertNotEqual(erin["due"], bob["due"])
        [delete] = [j for j in made if j["kind"] == "delete"]
        self.assertEqual(delete["due"], "2026-01-02T00:00:00Z")

    def test_changes_no_byte_and_sends_nothing(self):
        self.c.write_config(sync={"max_jobs_per_pass": 100})
        self.registry.inject(method="PUT", status=503, times=100)
        code, _, err = self.run_at("tick")
        self.assertEqual(code, 0, err)
        sent_before = len(self.registry.requests())
        files_before = files_of(self.c.dir)
        self.assertIn("state.db", files_before)
        later = "@2026-01-03 00:00:00"  # backoffs and Carol's window passed
        code, text, err = self.run_at("tick", "--dry-run", when=later)
        self.assertEqual(code, 0, err)
        self.assertIn("dry run: nothing was sent", text)
        code, plan, err = self.dry_json(when=later)
        self.assertEqual(code, 0, err)
        self.assertIn("DELETE", [q["method"] for q in plan["requests"]])
        self.assertEqual(len(self.registry.requests()), sent_before)
        self.assert_unchanged(files_before)

        # The next real pass sends what the dry run listed.
        self.registry.reset()
        code, _, err = self.run_at("tick", when=later)
        self.assertEqual(code, 0, err)
        planned = [(q["method"], urllib.parse.urlsplit(q["url"]).path,
                    q["idempotency_key"]) for q in plan["requests"]]
        self.assertEqual(sorted(planned), sorted(self.sent()))

    def test_beside_a_running_pass_and_after_it_died(self):
        code, _, err = self.run_at("tick")  # the first three jobs
        self.assertEqual(code, 0, err)
        self.registry.set_latency(60_000)
        env = vtcsync.faketime_env(LATER)
        pass_ = self.c.start("tick", env=env)
        self.addCleanup(lambda: pass_.poll() is None and pass_.kill())
        vtcsync.poll(lambda: self.c.db.scalar(
            "SELECT count(*) FROM jobs WHERE state = 'in_flight'") > 0,
            timeout=30, what="a job in flight")
        in_flight = {r["id"] for r in self.c.db.query(
            "SELECT id FROM jobs WHERE state = 'in_flight'")}

        code, plan, err = self.dry_json(when=LATER)
        self.assertEqual(code, 0, err)
        self.assertTrue(plan["pass_running"])
        self.assertEqual({j["id"] for j in plan["in_flight"]}, in_flight)
        self.assertEqual({j["action"] for j in plan["in_flight"]}, {"running"})

        vtcsync.sigkill(pass_)
        pass_.communicate()
        code, plan, err = self.dry_json(when=LATER)
        self.assertEqual(code, 0, err)
        self.assertFalse(plan["pass_running"])
        self.assertEqual({j["id"] for j in plan["in_flight"]}, in_flight)
        self.assertEqual({j["action"] for j in plan["in_flight"]}, {"recover"})
        # Still in flight: the dry run put nothing back.
        self.assertEqual(self.c.db.scalar(
            "SELECT count(*) FROM jobs WHERE state = 'in_flight'"), len(in_flight))

    def test_exits_with_the_code_of_the_walk(self):
        code, _, err = self.run_at("tick")
        self.assertEqual(code, 0, err)
        files_before = files_of(self.c.dir)
        lines = self.c.lines()
        good_lines = len(lines)

        # A tampered entry appended: 65, naming the file and the line.
        with open(self.c.audit, "ab") as f:
            f.write(lines[-1] + b"\n")
        code, plan, err = self.dry_json()
        self.assertEqual(code, EX_DATAERR, err)
        self.assertEqual(len(vtcsync.error_lines(err)), 1, err)
        self.assertIn(str(self.c.audit), err)
        self.assertIn(f"line {good_lines + 1}", err)
        self.assertEqual(plan["walk"]["failure"]["line"], good_lines + 1)
        self.assertEqual(plan["created"], [])

        # The audit source gone: 74.
        os.rename(self.c.audit, str(self.c.audit) + ".away")
        code, plan, err = self.dry_json()
        self.assertEqual(code, EX_IOERR, err)
        self.assertTrue(plan["walk"]["audit_unavailable"])
        os.rename(str(self.c.audit) + ".away", self.c.audit)

        # A broken policy file: 78, once the walk needs the policy.
        with open(self.c.audit, "wb") as f:
            f.write(b"".join(l + b"\n" for l in lines))
        self.c.append_script([{"type": "MemberAdded", "data": {"role": "member"},
                               "actor": "did:key:z6MkAdminExample",
                               "target": "did:key:z6MkZoe",
                               "ts": "2026-01-01T10:00:00Z"}])
        bad = self.c.dir / "policy.json"
        bad.write_text("{not json")
        self.c.write_config(policy={"file": str(bad)})
        code, _, err = self.run_at("tick", "--dry-run")
        self.assertEqual(code, EX_CONFIG, err)
        self.assertIn(str(bad), err)

        self.assertEqual(files_of(self.c.dir)["state.db"], files_before["state.db"])
        self.assertEqual([r for r in self.registry.requests()
                          if r["method"] != "GET"][3:], [])

    def test_json_needs_dry_run(self):
        code, out, err = self.c.run("tick", "--json")
        self.assertEqual(code, EX_USAGE, err)
        self.assertEqual(out, "")
        self.assertEqual(len(vtcsync.error_lines(err)), 1, err)
        self.assertFalse(self.c.db_path.exists())



def joins(first, count):
    """MemberAdded entries for `count` new members (a script for gen-audit)."""
    out = []
    for i in range(first, first + count):
        tag = ""
        for _ in range(4):
            i, r = divmod(i, 58)
            tag += BASE58[r]
        out.append({"type": "MemberAdded", "data": {"role": "member"},
                    "actor": "did:key:z6MkAdmin", "target": f"did:key:z6Mk{tag}rss"})
    return out


class Memory(unittest.TestCase):
    """The dry run holds what the pass writes in memory, not the database:
    on 100,000 jobs its peak RSS stays under 64 MB and under the size of
    the database file (a copy of it alone would take that much)."""

    def test_peak_rss_on_100000_jobs(self):
        c = vtcsync.Community(log=None, extra={"sync": {"max_seconds_per_pass": 3600}})
        self.addCleanup(c.cleanup)
        c.append_script(joins(0, 100_000))
        code, _, err = c.run("tick", "--max-jobs", 1)
        self.assertIn(code, (0, 69), err)
        # Every job waits a day, as after a 503: nothing is due.
        con = sqlite3.connect(c.db_path)
        with con:
            con.execute("UPDATE jobs SET due = ?", (time.time_ns() + 86400 * 10**9,))
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        self.assertEqual(c.db.scalar("SELECT count(*) FROM jobs"), 100_000)
        c.append_script(joins(100_000, 100), seed=2)

        code, out, err, rss = vtcsync.peak_rss(
            [vtcsync.binary(), *c.args("tick", "--dry-run", "--json")],
            env=vtcsync.clean_env())
        self.assertEqual(code, 0, err)
        plan = json.loads(out)
        self.assertEqual(plan["walk"]["entries"], 100)
        self.assertEqual(len(plan["created"]), 100)
        self.assertLess(rss, 64 << 20)
        self.assertLess(rss, os.path.getsize(c.db_path),
                        f"peak RSS {rss >> 20} MB, the database "
                        f"{os.path.getsize(c.db_path) >> 20} MB")


    def test_beside_passes_that_write_and_truncate_the_wal(self):
        """Dry runs while passes commit batches and, at their end, truncate
        the WAL (a rotation's old DID is forgotten): each reads a consistent
        snapshot, where a torn one reads as a malformed database (74) or a
        broken walk."""
        c = vtcsync.Community(log=None, extra={"sync": {"max_seconds_per_pass": 3600}})
        self.addCleanup(c.cleanup)
        full = c.dir / "full.jsonl"
        c.gen_audit("--entries", 40_000, "--members", 2_000, "--seed", 3,
                    "--identity-events", "-o", full)
        lines = vtcsync.log_lines(full)
        c.audit.write_bytes(b"")
        runs = truncated = 0
        for n in range(0, len(lines), 2_000):
            with open(c.audit, "ab") as f:
                f.write(b"".join(l + b"\n" for l in lines[n:n + 2_000]))
            # A pass that meets a dry run trying the lock exits 75: again.
            while not (c.db_path.exists() and
                       c.db.cursor_line() >= min(n + 2_000, len(lines))):
                pass_ = c.start("tick", "--max-jobs", 1)
                while True:
                    running = pass_.poll() is None
                    code, out, err = vtcsync.run(*c.args("tick", "--dry-run", "--json"))
                    self.assertEqual(code, 0, err)
                    walk = json.loads(out)["walk"]
                    self.assertIsNone(walk["failure"], walk)
                    self.assertTrue(walk["complete"], walk)
                    runs += 1
                    if not running:
                        break
                _, err = pass_.communicate()
                self.assertIn(pass_.returncode, (0, 69, 75), err)
            wal = pathlib.Path(f"{c.db_path}-wal")
            truncated += wal.exists() and wal.stat().st_size == 0
        self.assertEqual(c.db.cursor_line(), len(lines))
        self.assertGreater(truncated, 0, "no pass truncated the WAL")
        self.assertGreater(runs, 2 * len(lines) // 2_000)


if __name__ == "__main__":
    unittest.main()
