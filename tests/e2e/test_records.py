"""End to end: records list/show (the local mirror) and drift (the mirror
compared with the registry's paged listing), as case tables of arguments →
exit code and output, against the test registry."""

import json
import unittest

import vtcsync
from registry import record_id

WHEN = ("faketime", "-f", "@2026-01-03 00:00:00")  # Carol's window has passed
EX_DIFFER, EX_USAGE, EX_NOINPUT = 1, 64, 66
EX_UNAVAILABLE, EX_PROTOCOL, EX_CONFIG = 69, 76, 78
DAVE = "did:web:dave.example"


class Records(vtcsync.RegistryTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.community(sync={"max_jobs_per_pass": 100})

    def cli(self, *args):
        return self.c.run(*args, wrapper=WHEN)

    def synced(self):
        code, _, err = self.cli("tick")
        self.assertEqual(code, 0, err)
        return self.registry.records()

    def stranger(self, n):
        return {"entity_id": f"did:key:z6MkStranger{n}", "authority_id": self.c.did,
                "action": "recognise", "resource": "trust-graph",
                "record_type": "recognition", "recognized": True,
                "context": {"status": "active"}}

    def test_mirror_listed_and_shown(self):
        registry = self.synced()
        code, out, err = self.cli("records", "list", "--json")
        self.assertEqual(code, 0, err)
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual({r["id"]: r["record"] for r in rows}, registry)
        self.assertEqual({r["state"] for r in rows}, {"present"})

        dave = record_id(self.c.did, DAVE)
        cases = [
            # (args, exit code, stdout contains, stderr contains)
            (("records", "list"), 0, dave, ""),
            (("records", "show", DAVE), 0, f"record {dave}: present", ""),
            (("records", "show", "did:key:z6MkNobody"), EX_NOINPUT, "", "no member has that DID"),
            (("records",), EX_USAGE, "", "subcommand"),
            (("records", "show"), EX_USAGE, "", "DID"),
        ]
        for args, code, out_has, err_has in cases:
            with self.subTest(args=args):
                got, out, err = self.cli(*args)
                self.assertEqual(got, code, err)
                self.assertIn(out_has, out)
                self.assertIn(err_has, err)
                if code != 0:
                    self.assertEqual(len(vtcsync.error_lines(err)), 1, err)
                    self.assertEqual(out, "")
        code, out, _ = self.cli("records", "show", DAVE, "--json")
        doc = json.loads(out)
        self.assertEqual(doc["record"], registry[dave])
        self.assertEqual(doc["record"]["context"]["status"], "departed")

    def test_drift_in_step_then_each_kind_of_difference(self):
        registry = self.synced()
        writes = [r for r in self.registry.requests() if r["method"] != "GET"]
        code, out, err = self.cli("drift")
        self.assertEqual(code, 0, err)
        self.assertIn(f"listed {len(registry)} record(s)", out)
        self.assertIn("0 missing, 0 mismatched, 0 unknown", out)

        ids = sorted(registry)
        changed = dict(registry[ids[0]], recognized=not registry[ids[0]]["recognized"])
        stranger = self.stranger(1)
        self.registry.preload({ids[0]: changed, ids[1]: None,
                               record_id(self.c.did, stranger["entity_id"]): stranger})
        code, out, err = self.cli("drift", "--json")
        self.assertEqual(code, EX_DIFFER, err)
        doc = json.loads(out)
        self.assertFalse(doc["in_step"])
        self.assertEqual([i["id"] for i in doc["mismatched"]], [ids[0]])
        self.assertEqual(doc["mismatched"][0]["registry"], changed)
        self.assertEqual(doc["mismatched"][0]["mirror"], registry[ids[0]])
        self.assertEqual([i["id"] for i in doc["missing"]], [ids[1]])
        self.assertEqual([i["id"] for i in doc["unknown"]],
                         [record_id(self.c.did, stranger["entity_id"])])
        self.assertEqual(doc["same"], len(registry) - 2)
        # Drift only reads: nothing was written to the registry.
        self.assertEqual([r for r in self.registry.requests()
                          if r["method"] != "GET"], writes)

    def test_drift_reads_every_page_and_refuses_a_partial_listing(self):
        registry = self.synced()
        strangers = {record_id(self.c.did, s["entity_id"]): s
                     for s in map(self.stranger, range(1100))}
        self.registry.preload(strangers)
        code, out, err = self.cli("drift", "--json")
        self.assertEqual(code, EX_DIFFER, err)
        doc = json.loads(out)
        self.assertEqual(doc["pages"], 3)  # 500 records a page
        self.assertEqual(doc["listed"], len(registry) + len(strangers))
        self.assertEqual({i["id"] for i in doc["unknown"]}, set(strangers))

        # The second page fails: no comparison is printed from the first.
        cases = [
            ({"status": 503}, EX_UNAVAILABLE, "HTTP 503"),
            ({"status": 401}, EX_CONFIG, "HTTP 401"),
            ({"status": 200, "body": "{\"records\": 5}"}, EX_PROTOCOL, "not {"),
            ({"status": 200, "body": json.dumps({"records": [{"entity_id": 7}],
                                                 "nextCursor": None})},
             EX_PROTOCOL, "no string field"),
        ]
        for fault, code, err_has in cases:
            with self.subTest(fault=fault):
                self.registry.inject(method="GET", path_contains="cursor=", times=1,
                                     **fault)
                got, out, err = self.cli("drift")
                self.assertEqual(got, code, err)
                self.assertEqual(out, "")
                self.assertIn(err_has, err)
                self.assertIn("registry listing http://127.0.0.1:", err)
                self.assertEqual(len(vtcsync.error_lines(err)), 1, err)

    def test_no_database(self):
        for args in (("records", "list"), ("drift",)):
            with self.subTest(args=args):
                code, out, err = self.cli(*args)
                self.assertEqual(code, EX_NOINPUT, err)
                self.assertFalse(self.c.db_path.exists())
        self.assertEqual(self.registry.requests(), [])


if __name__ == "__main__":
    unittest.main()
