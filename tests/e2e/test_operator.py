"""End to end: the operator's commands — queue show/retry/discard, outcomes
list, audit verify — as case tables of arguments → exit code and output."""

import json
import os
import time
import unittest

import vtcsync
from vtcsync import Community

AT = "@2026-01-01 12:00:00"  # before Carol's RTBF window ends
EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66


class Operator(vtcsync.RegistryTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.community(registry={"concurrency": 1},
                                sync={"max_jobs_per_pass": 100})

    def run_at(self, *args, when=AT):
        return self.c.run(*args, wrapper=("faketime", "-f", when))

    def failed_ids(self):
        return [r["id"] for r in self.c.db.query(
            "SELECT id FROM jobs WHERE state = 'failed' ORDER BY rowid")]

    def fail_two_writes(self):
        self.registry.inject(method="PUT", status=400, times=2)
        code, _, err = self.run_at("tick")
        self.assertEqual(code, 76, err)
        ids = self.failed_ids()
        self.assertEqual(len(ids), 2)
        return ids

    def test_show_retry_and_their_errors(self):
        failed = self.fail_two_writes()
        pending = [r["id"] for r in self.c.db.query(
            "SELECT id FROM jobs WHERE state = 'pending'")]
        self.assertTrue(pending)  # Carol's held delete
        cases = [
            # (args, exit code, stdout contains, stderr contains)
            (("queue", "show", failed[0]), 0, "HTTP 400", ""),
            (("queue", "show", "no-such-job"), EX_NOINPUT, "", "unknown job id no-such-job"),
            (("queue", "retry", "no-such-job"), EX_NOINPUT, "", "unknown job id"),
            (("queue", "retry", pending[0]), EX_USAGE, "", "not failed"),
            (("queue", "retry", "--all-failed"), EX_USAGE, "", "add --yes"),
            (("queue", "retry", "--all-failed", "--dry-run"), 0, failed[1], "would retry 2"),
            (("queue", "retry"), EX_USAGE, "", "one of them"),
            (("queue", "retry", failed[0], "--all-failed"), EX_USAGE, "", "one of them"),
        ]
        for args, code, out_has, err_has in cases:
            with self.subTest(args=args):
                got, out, err = self.run_at(*args)
                self.assertEqual(got, code, err)
                self.assertIn(out_has, out)
                self.assertIn(err_has, err)
                if code != 0:
                    self.assertEqual(len(vtcsync.error_lines(err)), 1, err)
        # None of that changed anything.
        self.assertEqual(self.failed_ids(), failed)

        code, out, err = self.run_at("queue", "retry", "--all-failed", "--yes")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.failed_ids(), [])
        code, _, err = self.run_at("tick", when="@2026-01-01 12:01:00")
        self.assertEqual(code, 0, err)
        keys = [vtcsync.assert_key(r["idempotency_key"])
                for r in self.registry.requests("PUT")]
        retried = [k for k in keys if vtcsync.key_round(k) == 1]
        self.assertEqual(sorted(vtcsync.key_job(k) for k in retried), sorted(failed))
        # Every other request is of the first round; a retried job's new
        # key is not the one its failed request carried.
        self.assertEqual({vtcsync.key_round(k) for k in keys if k not in retried}, {0})
        for k in retried:
            first = [f for f in keys if vtcsync.key_job(f) == vtcsync.key_job(k)
                     and vtcsync.key_round(f) == 0]
            self.assertEqual(len(first), 1, (k, keys))
            self.assertNotEqual(first[0], k)
        self.assertEqual(len(set(keys)), len(keys))

        # outcomes list --json --since: NDJSON, exclusive, no DIDs.
        code, out, _ = self.run_at("outcomes", "list", "--json")
        self.assertEqual(code, 0)
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([r["seq"] for r in rows], sorted(r["seq"] for r in rows))
        self.assertEqual([r["kind"] for r in rows if r["job_id"] == failed[0]],
                         ["failed", "retried", "succeeded"])
        self.assertNotIn("did:key:", out)
        code, out2, _ = self.run_at("outcomes", "list", "--json", "--since", rows[1]["seq"])
        self.assertEqual([json.loads(l)["seq"] for l in out2.splitlines()],
                         [r["seq"] for r in rows[2:]])

    def test_discard_needs_force_for_a_delete(self):
        # Carol's delete fails: a DELETE answered 400.
        self.registry.inject(method="DELETE", status=400, times=1)
        code, _, err = self.run_at("tick", when="@2026-01-02 00:00:01")
        self.assertEqual(code, 76, err)
        [delete] = [r["id"] for r in self.c.db.query(
            "SELECT id FROM jobs WHERE state = 'failed' AND kind = 'delete'")]
        code, _, err = self.run_at("queue", "discard", delete)
        self.assertEqual(code, EX_USAGE, err)
        self.assertIn("--force", err)
        self.assertEqual(self.failed_ids(), [delete])
        code, _, err = self.run_at("queue", "discard", delete, "--force")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.failed_ids(), [])
        kinds = [r["kind"] for r in self.c.db.query(
            "SELECT kind FROM outcomes WHERE job_id = ? ORDER BY seq", (delete,))]
        self.assertEqual(kinds, ["failed", "discarded"])

    def test_queue_list_pages_with_after_and_filters(self):
        self.registry.inject(method=None, status=503, times=-1)
        c2 = Community(registry_url=self.registry.url,
                       extra={"registry": {"concurrency": 1},
                              "sync": {"max_jobs_per_pass": 1}})
        self.addCleanup(c2.cleanup)
        code, _, err = c2.run("tick", wrapper=("faketime", "-f", AT))
        full = [json.loads(l) for l in
                c2.run("queue", "list", "--json")[1].splitlines()]
        self.assertEqual(len(full), 5)
        seen, after = [], None
        while True:
            args = ["queue", "list", "--json", "--limit", "2"]
            if after:
                args += ["--after", after]
            code, out, err = c2.run(*args)
            self.assertEqual(code, 0, err)
            page = [json.loads(l) for l in out.splitlines()]
            if not page:
                break
            seen += page
            after = page[-1]["after"]
        self.assertEqual([j["id"] for j in seen], [j["id"] for j in full])
        code, out, _ = c2.run("queue", "list", "--json", "--kind", "depart")
        self.assertEqual(sorted(json.loads(l)["event_line"] for l in out.splitlines()), [9, 10])
        code, out, _ = c2.run("queue", "list", "--json", "--member", "did:key:z6MkErin")
        self.assertEqual([json.loads(l)["event_line"] for l in out.splitlines()], [12])
        for bad in ("garbage", "MTIz"):  # not base64 of "due.seq"
            code, _, err = c2.run("queue", "list", "--after", bad)
            self.assertEqual(code, EX_USAGE, err)

    def test_audit_verify(self):
        code, out, err = self.c.run("audit", "verify", "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        last = json.loads(self.c.lines()[-1])
        self.assertEqual((doc["ok"], doc["entries"], doc["head"]["line"],
                          doc["head"]["entry_hash"]), (True, 12, 12, last["entry_hash"]))
        self.assertEqual(doc["events"]["MemberAdded"], 5)
        self.c.copy_log("tampered.audit.jsonl")
        code, out, err = self.c.run("audit", "verify", "--json")
        self.assertEqual(code, EX_DATAERR)
        doc = json.loads(out)
        self.assertEqual((doc["ok"], doc["entries"], doc["failure"]["line"],
                          doc["failure"]["reason"]), (False, 8, 9, "tampered"))
        self.assertIn(f"{self.c.audit} line 9", err)
        # audit verify reads no database and creates none.
        self.assertFalse(self.c.db_path.exists())


class StatusWarnings(unittest.TestCase):
    def test_an_incomplete_last_line_warns_after_five_minutes(self):
        c = Community()
        self.addCleanup(c.cleanup)
        code, _, err = c.tick()
        self.assertIn(code, (0, 69, 76), err)
        st = c.status_json()
        self.assertIsNone(st["incomplete_line_since"])
        self.assertEqual(st["warnings"], [])

        with open(c.audit, "ab") as f:
            f.write(b'{"event_id":"half a line')
        now = time.time()
        for age, warned in ((60, False), (290, False), (310, True), (86400, True)):
            with self.subTest(age=age):
                os.utime(c.audit, (now - age, now - age))
                st = c.status_json()
                self.assertIsNotNone(st["incomplete_line_since"])
                stale = [w for w in st["warnings"] if "incomplete line" in w]
                self.assertEqual(bool(stale), warned, st["warnings"])
                code, out, _ = c.run("status")
                self.assertEqual(code, 0)
                self.assertEqual("WARNING" in out and "incomplete line" in out, warned, out)
        # Ended by its writer: no warning, nothing incomplete.
        with open(c.audit, "ab") as f:
            f.write(b"\n")
        st = c.status_json()
        self.assertIsNone(st["incomplete_line_since"])


if __name__ == "__main__":
    unittest.main()
