"""End to end: audit skip steps over exactly the entry the walk stopped at,
after confirmation, records `entry_skipped`, and the walk goes on from the
skipped entry's declared entry_hash; every other use is refused and changes
nothing."""

import json
import unittest

import vtcsync

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_TEMPFAIL = 64, 65, 66, 75


class AuditSkip(vtcsync.RegistryTestCase):
    def community(self, log):
        return super().community(log, sync={"max_jobs_per_pass": 100})

    def stopped(self, c):
        code, _, err = c.tick()
        self.assertEqual(code, EX_DATAERR, err)
        failure = c.status_json()["audit_failure"]
        self.assertIsNotNone(failure)
        return failure

    def test_skip_the_tampered_entry_then_walk_on(self):
        c = self.community("tampered.audit.jsonl")
        f = self.stopped(c)
        line, event = str(f["line"]), f["event_id"]
        cursor = c.db.cursor()
        cases = [
            # (args, exit code, stderr contains)
            (("audit", "skip", line, "--event-id", event), EX_USAGE, "add --yes"),
            (("audit", "skip", line, "--event-id", "0" + event[1:], "--yes"), EX_USAGE,
             f"stopped at line {line} (event {event}), not at"),
            (("audit", "skip", str(f["line"] + 1), "--event-id", event, "--yes"),
             EX_USAGE, "not at line"),
            (("audit", "skip", "0", "--event-id", event, "--yes"), EX_USAGE, "LINE"),
            (("audit", "skip", line, "--yes"), EX_USAGE, "--event-id"),
        ]
        for args, code, err_has in cases:
            with self.subTest(args=args):
                got, out, err = c.run(*args)
                self.assertEqual(got, code, err)
                self.assertIn(err_has, err)
                self.assertEqual(out, "")
                self.assertEqual(len(vtcsync.error_lines(err)), 1, err)
        with c.lock():
            code, _, err = c.run("audit", "skip", line, "--event-id", event, "--yes")
            self.assertEqual(code, EX_TEMPFAIL, err)
        # Nothing moved.
        self.assertEqual(c.db.cursor(), cursor)
        self.assertEqual(c.status_json()["audit_failure"], f)

        code, out, err = c.run("audit", "skip", line, "--event-id", event, "--yes")
        self.assertEqual(code, 0, err)
        self.assertIn(f"skipped line {line} (event {event}, tampered)", out)
        self.assertIsNone(c.status_json()["audit_failure"])
        code, out, _ = c.run("outcomes", "list", "--json")
        skipped = [json.loads(l) for l in out.splitlines()
                   if json.loads(l)["kind"] == "entry_skipped"]
        self.assertEqual(len(skipped), 1)
        self.assertEqual(skipped[0]["detail"],
                         {"line": f["line"], "event_id": event, "reason": "tampered"})
        self.assertNotIn("did:", json.dumps(skipped[0]))

        code, _, err = c.tick()
        self.assertEqual(code, 0, err)
        self.assertEqual(c.db.cursor_line(), len(c.lines()))
        # Nothing from the skipped entry was applied.
        self.assertEqual(c.db.scalar("SELECT count(*) FROM jobs WHERE id = ?", (event,)), 0)
        self.assertEqual(c.db.scalar(
            "SELECT count(*) FROM outcomes WHERE job_id = ?", (event,)), 0)

        code, _, err = c.run("audit", "skip", line, "--event-id", event, "--yes")
        self.assertEqual(code, EX_USAGE, err)
        self.assertIn("nothing to skip", err)

    def test_a_line_without_an_entry_hash_cannot_be_skipped(self):
        c = self.community("basic.audit.jsonl")
        code, _, err = c.tick()
        self.assertEqual(code, 0, err)
        with open(c.audit, "ab") as f:
            f.write(b'{"not": "an entry"}\n')
        f = self.stopped(c)
        self.assertEqual(f["reason"], "unparseable")
        cursor = c.db.cursor()
        code, _, err = c.run("audit", "skip", str(f["line"]), "--event-id", "", "--yes")
        self.assertEqual(code, EX_DATAERR, err)
        self.assertIn("declares no entry_hash", err)
        self.assertEqual(c.db.cursor(), cursor)

    def test_a_discontinuity_cannot_be_skipped(self):
        c = self.community("basic.audit.jsonl")
        code, _, err = c.tick()
        self.assertEqual(code, 0, err)
        c.copy_log("redacted.audit.jsonl")  # another chain
        f = self.stopped(c)
        self.assertEqual(f["reason"], "discontinuity")
        code, _, err = c.run("audit", "skip", str(f["line"]), "--event-id",
                             f["event_id"], "--yes")
        self.assertEqual(code, EX_USAGE, err)
        self.assertIn("needs a new state database", err)

    def test_no_database(self):
        c = self.community("tampered.audit.jsonl")
        code, _, err = c.run("audit", "skip", "9", "--event-id", "x", "--yes")
        self.assertEqual(code, EX_NOINPUT, err)
        self.assertFalse(c.db_path.exists())
        self.assertFalse(c.db_path.with_name("state.db.lock").exists())


if __name__ == "__main__":
    unittest.main()
