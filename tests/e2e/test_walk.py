"""The walk of the audit log into jobs (vtc-sync(1), THE AUDIT LOG and
MEMBERS AND JOBS): the public vectors, idle passes, appends, incomplete
lines, truncation, rotation and anchors."""

import base64
import calendar
import hashlib
import json
import os
import time
import unittest

import vtcsync
from vtcsync import EX_DATAERR, EX_OK, Community

vtcsync.binary()  # fail at once, clearly, when VTC_SYNC is not set

ADMIN = "did:key:z6MkAdminExample"


def ns(rfc3339):
    """'2026-01-01T00:00:00.5Z' -> integer nanoseconds since the epoch."""
    assert rfc3339.endswith("Z"), rfc3339
    body = rfc3339[:-1]
    frac = ""
    if "." in body:
        body, frac = body.split(".")
    secs = calendar.timegm(time.strptime(body, "%Y-%m-%dT%H:%M:%S"))
    return secs * 10**9 + int((frac + "0" * 9)[:9])


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def state_of(db):
    """Everything the walk produces, comparable between two databases
    (dispatch's attempts, backoff and health left out)."""
    return vtcsync.walk_state(db)


class WalkTest(unittest.TestCase):
    def community(self, *args, **kw):
        c = Community(*args, **kw)
        self.addCleanup(c.cleanup)
        return c

    def tick_ok(self, c, *args):
        rc, out, err = c.tick(*args)
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(out, "", "tick prints nothing on stdout")
        return err

    def fresh_walk(self, log_path, keys=True, **kw):
        """State of a new database after one tick over a copy of log_path."""
        ref = self.community(log=str(log_path), keys=keys, **kw)
        self.tick_ok(ref)
        return state_of(ref.db)

    # -- the basic vector ----------------------------------------------
    def test_basic_vector(self):
        c = self.community()
        self.tick_ok(c)
        expected = vtcsync.load_json("basic.expected.json")
        ids = vtcsync.event_ids(c.audit)
        jobs = c.db.jobs()
        self.assertEqual(
            sorted((j["member"], j["kind"], j["event_line"]) for j in jobs),
            sorted((j["member"], j["kind"], j["event_line"])
                   for j in expected["jobs"]))
        by_member = {j["member"]: j for j in jobs}
        for want in expected["jobs"]:
            got = by_member[want["member"]]
            self.assertEqual(got["id"], ids[want["event_line"]])
            self.assertEqual(got["state"], "pending")
            self.assertEqual(bool(got["rtbf"]), bool(want.get("rtbf", False)))
        outcomes = c.db.outcomes()
        superseded = [o for o in outcomes if o["kind"] == "superseded"]
        self.assertEqual(len(superseded), expected["superseded"])
        walk = [o for o in outcomes if o["kind"] in vtcsync.WALK_OUTCOMES]
        self.assertEqual(len(walk), expected["superseded"],
                         f"only superseded outcomes expected: {walk}")
        live = {j["id"] for j in jobs}
        for o in superseded:
            self.assertNotIn(o["job_id"], live)
            self.assertIn(o["job_id"], ids.values())
        # Outcomes never hold a plaintext DID.
        self.assertNotIn("did:", json.dumps(outcomes))
        self.assertEqual(c.db.cursor_line(), expected["envelopes"])

    def test_basic_member_state_and_times(self):
        c = self.community()
        self.tick_ok(c)
        expected = vtcsync.load_json("basic.expected.json")
        members = {m["did"]: m for m in c.db.members()}
        status = {"publish": "active", "update": "active",
                  "depart": "departed", "delete": "purged"}
        for want in expected["jobs"]:
            m = members[want["member"]]
            self.assertEqual(m["status"], status[want["kind"]], want["member"])
            if "role" in want:
                self.assertEqual(m["role"], want["role"])
            if "active_from" in want:
                self.assertEqual(m["active_from"], ns(want["active_from"]))
            if "active_to" in want:
                self.assertEqual(m["active_to"], ns(want["active_to"]))
        # Carol's RTBF window (not_before) is long past: dispatch may have
        # tried it already, so its due time is checked in test_rtbf_window.

    def test_rtbf_window(self):
        """A self-purge is held to the end of its UTC batch window; the
        entries are dated in the future so the hold is live."""
        for hours, release in ((24, "2099-01-02T00:00:00Z"),
                               (6, "2099-01-01T18:00:00Z")):
            with self.subTest(hours=hours):
                c = self.community(log=None, extra={
                    "sync": {"rtbf_batch_window_hours": hours}})
                c.append_script([
                    {"type": "MemberAdded", "data": {"role": "member"},
                     "actor": ADMIN, "target": "did:key:z6MkZed",
                     "ts": "2099-01-01T10:00:00Z"},
                    {"type": "MemberRemoved", "data": {"disposition": "purge"},
                     "actor": "did:key:z6MkZed", "target": "did:key:z6MkZed",
                     "ts": "2099-01-01T12:34:56.789Z"},
                ], seed=404)
                self.tick_ok(c)
                jobs = c.db.query("SELECT kind, state, attempts, rtbf, due "
                                  "FROM jobs")
                self.assertEqual(jobs, [{"kind": "delete", "state": "pending",
                                         "attempts": 0, "rtbf": 1,
                                         "due": ns(release)}])

    def test_second_tick_is_idle(self):
        """Nothing new and nothing due: exit 0, nothing written, and with -q
        nothing said. The registry accepts everything, so the first pass
        leaves nothing due."""
        for keys in (True, None):
            with self.subTest(strict=bool(keys)), vtcsync.OkRegistry() as reg:
                c = self.community(keys=keys, registry_url=reg.url,
                                   extra={"sync": {"max_jobs_per_pass": 100}})
                self.tick_ok(c)
                self.assertEqual(c.db.counts()["jobs"], 0,
                                 "the first pass should have sent every job")
                rows = state_of(c.db)
                outcomes = c.db.outcomes()
                last_pass = c.db.meta("last_pass")
                before = vtcsync.file_state(c.db_path)
                sent = len(reg.requests)
                rc, out, err = c.tick("-q")
                after = vtcsync.file_state(c.db_path)
                self.assertEqual(rc, EX_OK, err)
                self.assertEqual(err, "", "-q: nothing on an idle pass")
                self.assertEqual(out, "")
                self.assertEqual(after[""][:2], before[""][:2],
                                 "an idle pass writes nothing")
                rc, out, err = c.tick()
                self.assertEqual(rc, EX_OK, err)
                self.assertEqual(vtcsync.error_lines(err), [])
                self.assertEqual(len(reg.requests), sent, "nothing was due")
                self.assertEqual(state_of(c.db), rows)
                self.assertEqual(c.db.outcomes(), outcomes)
                self.assertEqual(c.db.meta("last_pass"), last_pass,
                                 "an idle pass records nothing")

    def test_second_tick_reads_nothing(self):
        """Against the unreachable registry: the second pass reads no entry
        and creates no job (it may retry due jobs)."""
        c = self.community()
        self.tick_ok(c)
        rows = state_of(c.db)
        rc, out, err = c.tick("-q")
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(err, "")
        self.assertEqual(state_of(c.db), rows)
        last = c.status_json()["last_pass"]
        self.assertEqual(last["entries"] if last else 0, 0)

    def test_quiet_first_pass(self):
        c = self.community()
        rc, out, err = c.tick("-q")
        self.assertEqual(rc, EX_OK)
        self.assertEqual((out, err), ("", ""))
        self.assertEqual(c.db.cursor_line(), 12)

    # -- invalid vectors -----------------------------------------------
    def test_invalid_vectors(self):
        for case in vtcsync.load_json("invalid.expected.json")["cases"]:
            with self.subTest(case["file"]):
                self.check_invalid(case)

    def check_invalid(self, case):
        bad = case["first_bad_line"]
        c = self.community(log=case["file"])
        rc, out, err = c.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        errors = vtcsync.error_lines(err)
        self.assertEqual(len(errors), 1, err)
        self.assertTrue(errors[0].startswith(vtcsync.ERROR_PREFIX))
        self.assertIn(f"{c.audit} line {bad}", errors[0])
        self.assertIn(case["reason"], errors[0])
        event_id = vtcsync.event_ids(c.audit).get(bad)
        if event_id:
            self.assertIn(event_id, errors[0])

        # Jobs only from the good lines before; the same as a walk of them.
        self.assertTrue(all(j["event_line"] < bad for j in c.db.jobs()))
        self.assertEqual(c.db.cursor_line(), case["good_lines_before"])
        prefix = c.dir / "prefix.jsonl"
        prefix.write_bytes(b"".join(
            line + b"\n" for line in c.lines()[:case["good_lines_before"]]))
        self.assertEqual(state_of(c.db), self.fresh_walk(prefix))

        status = c.status_json()
        self.assertEqual(status["audit_failure"]["line"], bad)
        self.assertEqual(status["audit_failure"]["reason"], case["reason"])
        self.assertEqual(status["last_pass"]["exit_code"], EX_DATAERR)
        rc, text, err = c.run("status")
        self.assertEqual(rc, EX_OK, err)
        self.assertIn(f"line {bad}", text)
        self.assertIn(case["reason"], text)

        # The walk stays stopped: the next pass fails the same way.
        rows = state_of(c.db)
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        self.assertEqual(state_of(c.db), rows)

    def test_appended_bad_entries(self):
        """After a good walk, one bad entry at line 13 stops the next pass
        there."""
        def raw(data):
            return lambda c: c.audit.open("ab").write(data)

        def scripted(entry):
            return lambda c: c.append_script([entry], seed=505)

        cases = [
            ("empty line", raw(b"\n"), "unparseable"),
            ("CR", raw(b"\r\n"), "unparseable"),
            ("not JSON", raw(b"{oops\n"), "unparseable"),
            ("membership event_version 2",
             scripted({"type": "MemberAdded", "data": {"role": "member"},
                       "actor": ADMIN, "target": "did:key:z6MkV2",
                       "event_version": 2}), "unsupported-version"),
            ("too long",
             scripted({"type": "ProfileUpdated", "data": {"bio": "x" * 6000},
                       "actor": ADMIN}), "too-long"),
        ]
        for name, append, reason in cases:
            with self.subTest(name):
                c = self.community(extra={"audit": {"max_line_bytes": 4096}})
                self.tick_ok(c)
                rows = state_of(c.db)
                append(c)
                rc, _, err = c.tick()
                self.assertEqual(rc, EX_DATAERR, err)
                errors = vtcsync.error_lines(err)
                self.assertEqual(len(errors), 1, err)
                self.assertIn("line 13", errors[0])
                self.assertIn(reason, errors[0])
                self.assertEqual(state_of(c.db), rows)
                self.assertEqual(c.db.cursor_line(), 12)
                self.assertEqual(c.status_json()["audit_failure"]["reason"],
                                 reason)

    def test_swapped_did_passes_in_chain_mode(self):
        c = self.community(log="swapped-did.audit.jsonl", keys=None)
        err = self.tick_ok(c)
        self.assertIn("warning", err, "chain mode warns every pass")
        self.assertEqual(c.db.cursor_line(), 12)
        self.assertIsNone(c.status_json()["audit_failure"])

    def test_strict_without_key_file_is_config_error(self):
        c = self.community(keys=None, extra={"audit": {"verify": "strict"}})
        rc, _, err = c.tick()
        self.assertEqual(rc, vtcsync.EX_CONFIG, err)
        self.assertIn("audit.key_file", err)

    # -- other public vectors ------------------------------------------
    def test_precision_vector(self):
        c = self.community(log="precision.audit.jsonl")
        self.tick_ok(c)
        want = vtcsync.load_json("precision.expected.json")["active_from"]
        members = {m["did"]: m for m in c.db.members()}
        for did, ts in want.items():
            self.assertEqual(members[did]["active_from"], ns(ts), did)
            self.assertEqual(members[did]["status"], "active")

    def test_legacy_prefix_vector(self):
        c = self.community(log="legacy-prefix.audit.jsonl")
        self.tick_ok(c)
        want = vtcsync.load_json("legacy-prefix.expected.json")
        jobs = {j["member"]: j for j in c.db.jobs()}
        for did in want["published"]:
            self.assertEqual(jobs[did]["kind"], "publish")
        for did in want["not_published"]:
            self.assertNotIn(did, jobs)
        self.assertEqual(c.db.cursor_line(), len(c.lines()))

    def test_redacted_vector(self):
        """A redacted target is matched by (audit_key_id,
        target_did_hash); an unmatched removal is unattributable and makes
        status warn."""
        c = self.community(log="redacted.audit.jsonl")
        self.tick_ok(c)
        want = vtcsync.load_json("redacted.expected.json")
        members = {m["did"]: m["status"] for m in c.db.members()}
        for did in want["departed"]:
            self.assertEqual(members.get(did), "departed", did)
        for did in want["active"]:
            self.assertEqual(members.get(did), "active", did)
        ids = vtcsync.event_ids(c.audit)
        unattributable = [o["job_id"] for o in c.db.outcomes()
                          if o["kind"] == "unattributable"]
        self.assertEqual(unattributable,
                         [ids[n] for n in want["unattributable_lines"]])
        rc, text, err = c.run("status")
        self.assertEqual(rc, EX_OK, err)
        self.assertIn("unattributable", text)

    # -- appends -------------------------------------------------------
    def test_append_scripted_entries(self):
        c = self.community()
        self.tick_ok(c)
        old_outcomes = c.db.outcomes()
        c.append_script([
            {"type": "MemberAdded", "data": {"role": "member"},
             "actor": ADMIN, "target": "did:key:z6MkFrank"},
            {"type": "RoleChanged",
             "data": {"previousRole": "issuer", "newRole": "member"},
             "actor": ADMIN, "target": "did:key:z6MkErin"},
            {"type": "MemberRemoved", "data": {"disposition": "tombstone"},
             "actor": ADMIN, "target": "did:key:z6MkBob"},
        ], seed=101)
        ids = vtcsync.event_ids(c.audit)
        self.tick_ok(c)
        self.assertEqual(c.status_json()["last_pass"]["entries"], 3)
        self.assertEqual(c.db.cursor_line(), 15)
        jobs = {j["member"]: (j["kind"], j["event_line"], j["id"])
                for j in c.db.jobs()}
        self.assertEqual(jobs["did:key:z6MkFrank"], ("publish", 13, ids[13]))
        self.assertEqual(jobs["did:key:z6MkErin"], ("update", 14, ids[14]))
        self.assertEqual(jobs["did:key:z6MkBob"], ("depart", 15, ids[15]))
        self.assertEqual(len(jobs), 6)
        outcomes = c.db.outcomes()
        self.assertEqual(outcomes[:len(old_outcomes)], old_outcomes,
                         "earlier outcomes are untouched")
        new = [(o["kind"], o["job_id"]) for o in outcomes[len(old_outcomes):]]
        self.assertEqual(sorted(new), sorted([("superseded", ids[12]),
                                              ("superseded", ids[6])]))
        self.assertEqual(state_of(c.db), self.fresh_walk(c.audit))

    def test_append_random_entries(self):
        c = self.community()
        self.tick_ok(c)
        c.gen_audit("--entries", 300, "--members", 40, "--seed", 17,
                    "--append", "-o", c.audit)
        self.tick_ok(c)
        self.assertEqual(c.status_json()["last_pass"]["entries"], 300)
        self.assertEqual(c.db.cursor_line(), 312)
        self.assertEqual(state_of(c.db), self.fresh_walk(c.audit))

    def new_entry_bytes(self, c, entries, seed):
        """The bytes gen-audit would append to c's log (LF-terminated)."""
        scratch = c.dir / f"scratch-{seed}.jsonl"
        scratch.write_bytes(c.audit.read_bytes())
        c.append_script(entries, seed=seed, path=scratch)
        return scratch.read_bytes()[c.audit.stat().st_size:]

    def test_incomplete_last_line(self):
        c = self.community()
        self.tick_ok(c)
        extra = self.new_entry_bytes(c, [
            {"type": "MemberAdded", "data": {"role": "member"},
             "actor": ADMIN, "target": "did:key:z6MkFrank"}], seed=202)
        self.assertTrue(extra.endswith(b"\n") and extra.count(b"\n") == 1)
        line = extra[:-1]
        rows = state_of(c.db)
        with open(c.audit, "ab") as f:
            f.write(line[:len(line) // 2])
        for flags in ((), ("-q",)):
            rc, out, err = c.tick(*flags)
            self.assertEqual(rc, EX_OK, err)
            self.assertEqual(vtcsync.error_lines(err), [])
            if flags:
                self.assertEqual(err, "", "-q: an incomplete line is idle")
            self.assertEqual(state_of(c.db), rows)
            self.assertEqual(c.db.cursor_line(), 12)
        with open(c.audit, "ab") as f:
            f.write(line[len(line) // 2:])  # whole entry, still no LF
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(state_of(c.db), rows)
        self.assertEqual(c.db.cursor_line(), 12)
        with open(c.audit, "ab") as f:
            f.write(b"\n")
        self.tick_ok(c)
        self.assertEqual(c.db.cursor_line(), 13)
        frank = [j for j in c.db.jobs() if j["member"] == "did:key:z6MkFrank"]
        self.assertEqual([(j["kind"], j["event_line"]) for j in frank],
                         [("publish", 13)])
        self.assertEqual(state_of(c.db), self.fresh_walk(c.audit))

    def test_incomplete_last_line_on_first_walk(self):
        c = self.community()
        extra = self.new_entry_bytes(c, [
            {"type": "MemberAdded", "data": {"role": "member"},
             "actor": ADMIN, "target": "did:key:z6MkFrank"}], seed=203)
        with open(c.audit, "ab") as f:
            f.write(extra[:-1])
        self.tick_ok(c)
        self.assertEqual(c.db.cursor_line(), 12)
        basic = vtcsync.data_file("basic.audit.jsonl")
        self.assertEqual(state_of(c.db), self.fresh_walk(basic))

    # -- truncation, rotation, anchors ---------------------------------
    def test_new_empty_file_after_rename_waits_but_emptied_log_is_discontinuity(self):
        c = self.community()
        self.tick_ok(c)
        cursor = c.db.cursor()
        # logrotate renamed the log; the writer has not written the new one.
        os.rename(c.audit, c.dir / "audit.jsonl.1")
        c.audit.write_bytes(b"")
        self.tick_ok(c)
        self.assertEqual(c.db.cursor(), cursor)
        # The same file emptied in place is not a rotation.
        os.rename(c.dir / "audit.jsonl.1", c.audit)
        with open(c.audit, "r+b") as f:
            f.truncate(0)
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        self.assertIn("discontinuity", err)
        self.assertEqual(c.db.cursor(), cursor)

    def test_truncated_log_is_discontinuity(self):
        c = self.community()
        self.tick_ok(c)
        rows = state_of(c.db)
        cursor = c.db.cursor()
        with open(c.audit, "r+b") as f:  # same inode, fewer lines
            f.truncate(sum(len(l) + 1 for l in c.lines()[:8]))
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        errors = vtcsync.error_lines(err)
        self.assertEqual(len(errors), 1, err)
        self.assertIn("discontinuity", errors[0])
        self.assertEqual(state_of(c.db), rows)
        self.assertEqual(c.db.cursor(), cursor, "the cursor never moves back")
        self.assertEqual(c.status_json()["audit_failure"]["reason"],
                         "discontinuity")
        # Growing back with different entries does not resume it.
        c.gen_audit("--entries", 10, "--seed", 31, "--append", "-o", c.audit)
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        self.assertIn("discontinuity", err)
        self.assertEqual(state_of(c.db), rows)

    def test_rewritten_copy_continues(self):
        """Cursor rule 2 (vtc-sync(1), THE AUDIT LOG): the log copied."""
        c = self.community()
        self.tick_ok(c)
        rows = state_of(c.db)
        copy = c.dir / "copy.jsonl"
        copy.write_bytes(c.audit.read_bytes())
        os.replace(copy, c.audit)
        rc, _, err = c.tick("-q")
        self.assertEqual((rc, err), (EX_OK, ""))
        self.assertEqual(state_of(c.db), rows)
        c.append_script([{"type": "MemberAdded", "data": {"role": "member"},
                          "actor": ADMIN, "target": "did:key:z6MkGus"}],
                        seed=303)
        self.tick_ok(c)
        self.assertEqual(c.db.cursor_line(), 13)

    def test_rotation_by_rename(self):
        c = self.community()
        self.tick_ok(c)
        last_hash = json.loads(c.lines()[-1])["entry_hash"]
        self.assertEqual(c.db.cursor()["entry_hash"], last_hash)
        new = c.dir / "audit.new.jsonl"
        c.gen_audit("--entries", 60, "--members", 20, "--seed", 41,
                    "--anchor", last_hash, "--start-time",
                    "2026-01-02T00:00:00Z", "-o", new)
        concat = c.dir / "concat.jsonl"
        concat.write_bytes(c.audit.read_bytes() + new.read_bytes())
        os.rename(c.audit, c.dir / "audit.jsonl.1")
        os.rename(new, c.audit)
        self.tick_ok(c)
        self.assertEqual(c.status_json()["last_pass"]["entries"], 60)
        self.assertEqual(c.db.cursor_line(), 60)
        got, want = state_of(c.db), self.fresh_walk(concat)
        self.assertEqual(got["members"], want["members"])
        self.assertEqual(got["outcomes"], want["outcomes"])
        # Job lines count in the file they came from.
        rotated = [(i, k, m, line if line <= 12 else line - 12, r)
                   for i, k, m, line, r in want["jobs"]]
        self.assertEqual(got["jobs"], rotated)
        # And it goes on from there.
        c.gen_audit("--entries", 5, "--seed", 42, "--append", "-o", c.audit)
        self.tick_ok(c)
        self.assertEqual(c.db.cursor_line(), 65)

    def test_rotation_to_foreign_chain_is_discontinuity(self):
        c = self.community()
        self.tick_ok(c)
        rows = state_of(c.db)
        new = c.dir / "audit.new.jsonl"
        c.gen_audit("--entries", 20, "--seed", 43, "--anchor",
                    b64url(hashlib.sha256(b"not the head").digest()), "-o", new)
        os.rename(new, c.audit)
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        self.assertIn("discontinuity", err)
        self.assertEqual(state_of(c.db), rows)

    def test_anchor_for_log_starting_mid_chain(self):
        anchor = b64url(hashlib.sha256(b"vtc-sync e2e anchor").digest())
        c = self.community(log=None)
        c.gen_audit("--entries", 80, "--members", 25, "--seed", 51,
                    "--anchor", anchor, "-o", c.audit)
        self.assertEqual(json.loads(c.lines()[0])["prev_hash"], anchor)

        # Without the anchor: the first entry does not link.
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        self.assertIn("line 1", err)
        self.assertIn("broken-link", err)
        self.assertEqual(c.db.jobs(), [])

        # A wrong anchor: the same.
        wrong = b64url(hashlib.sha256(b"wrong").digest())
        c2 = self.community(log=str(c.audit), extra={"audit": {"anchor": wrong}})
        rc, _, err = c2.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        self.assertIn("broken-link", err)

        # With it: the whole log, like the same entries from zeros would.
        c3 = self.community(log=str(c.audit), extra={"audit": {"anchor": anchor}})
        self.tick_ok(c3)
        self.assertEqual(c3.db.cursor_line(), 80)
        self.assertGreater(len(c3.db.jobs()), 0)
        zeros = c3.dir / "zeros.jsonl"
        c3.gen_audit("--entries", 80, "--members", 25, "--seed", 51, "-o", zeros)
        want = self.fresh_walk(zeros)
        self.assertEqual(state_of(c3.db), want)

    def test_bad_anchor_value_is_config_error(self):
        c = self.community(extra={"audit": {"anchor": "not base64url!"}})
        rc, _, err = c.tick()
        self.assertEqual(rc, vtcsync.EX_CONFIG, err)
        self.assertIn("audit.anchor", err)


if __name__ == "__main__":
    unittest.main()
