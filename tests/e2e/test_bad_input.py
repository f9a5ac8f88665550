"""Hand-written bad input (vtc-sync(1), THE AUDIT LOG) through the real
binary: after a good walk of basic (12 entries), line 13 is bad in one way
and line 14 is a good entry. Each case ends with the right exit code and one
error line naming the file and the line; nothing is lost: the cursor stays
on line 12, nothing of lines 13 and 14 is applied, and once line 13 is
mended both are taken. test_walk.py covers empty lines, CR, plain garbage
and too-long lines of a few kB; these are the hostile ones."""

import json
import unittest

import vtcsync
from vtcsync import EX_DATAERR, EX_OK, Community

vtcsync.binary()

ADMIN = "did:key:z6MkAdminExample"


def replace_value(line, name, raw):
    """Line with member `name`'s JSON value replaced by the bytes `raw`."""
    doc = json.loads(line)
    old = json.dumps(doc[name], separators=(",", ":"), ensure_ascii=False).encode()
    key = b'"' + name.encode() + b'":'
    assert key + old in line, (name, old)
    return line.replace(key + old, key + raw, 1)


def nested(depth):
    return b'{"type":"ProfileUpdated","data":' + b"[" * depth + b"]" * depth + b"}"


# name -> (edit of the good line 13, reason)
CASES = {
    "invalid UTF-8 in a DID": (
        lambda l: l.replace(b"z6MkFrank", b"z6Mk\xff\xfeFrank", 1), "unparseable"),
    "overlong UTF-8 encoding": (
        lambda l: l.replace(b"z6MkFrank", b"z6Mk\xc0\xafFrank", 1), "unparseable"),
    "lone surrogate escape": (
        lambda l: l.replace(b"z6MkFrank", b"z6Mk\\ud800Frank", 1), "unparseable"),
    "NUL byte inside a string": (
        lambda l: l.replace(b"z6MkFrank", b"z6Mk\x00Frank", 1), "unparseable"),
    "NUL byte between members": (
        lambda l: l.replace(b',"event_version"', b',\x00"event_version"', 1),
        "unparseable"),
    "raw control character in a DID": (
        lambda l: l.replace(b"z6MkFrank", b"z6Mk\x01Frank", 1), "unparseable"),
    "10 MB line": (lambda l: l[:-1] + b"," + b" " * (10 << 20) + b"}", "too-long"),
    "nesting 100000 deep": (
        lambda l: replace_value(l, "event", nested(100000))[:(1 << 20) - 1],
        "unparseable"),
    "nesting 65 deep": (lambda l: replace_value(l, "event", nested(65)),
                        "unparseable"),
    "event_version as a string": (
        lambda l: replace_value(l, "event_version", b'"1"'), "unparseable"),
    "schema_version as a float": (
        lambda l: replace_value(l, "schema_version", b"2.0"), "unparseable"),
    "timestamp as a number": (
        lambda l: replace_value(l, "timestamp", b"1767225600"), "unparseable"),
    "event as an array": (
        lambda l: replace_value(l, "event", b'["MemberAdded"]'), "unparseable"),
    "target hash as an object": (
        lambda l: replace_value(l, "target_did_hash", b"{}"), "unparseable"),
    "event_version of 20 digits": (
        lambda l: replace_value(l, "event_version", b"99999999999999999999"),
        "unparseable"),
    "event_version above 32 bits": (
        lambda l: replace_value(l, "event_version", b"4294967297"), "unparseable"),
    "schema_version 1e400": (
        lambda l: replace_value(l, "schema_version", b"1e400"), "unparseable"),
    "negative event_version": (
        lambda l: replace_value(l, "event_version", b"-1"), "unparseable"),
    "timestamp in the year 9999": (
        lambda l: replace_value(l, "timestamp", b'"9999-12-31T23:59:59.999999999Z"'),
        "unparseable"),
    "timestamp in the year 1013": (
        lambda l: replace_value(l, "timestamp", b'"1013-01-01T00:00:03.123456Z"'),
        "unparseable"),
}


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = Community()
        cls.base.append_script([
            {"type": "MemberAdded", "data": {"role": "member"}, "actor": ADMIN,
             "target": "did:key:z6MkFrank"},
            {"type": "MemberAdded", "data": {"role": "member"}, "actor": ADMIN,
             "target": "did:key:z6MkGus"},
        ], seed=606)
        cls.lines = cls.base.lines()
        assert len(cls.lines) == 14

    @classmethod
    def tearDownClass(cls):
        cls.base.cleanup()

    def community_after_basic(self):
        c = Community()
        self.addCleanup(c.cleanup)
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_OK, err)
        return c

    def test_bad_line_13(self):
        for name, (edit, reason) in CASES.items():
            with self.subTest(name):
                c = self.community_after_basic()
                before = vtcsync.walk_state(c.db)
                bad = edit(self.lines[12])
                self.assertNotEqual(bad, self.lines[12])
                self.assertNotIn(b"\n", bad)
                with open(c.audit, "ab") as f:
                    f.write(bad + b"\n" + self.lines[13] + b"\n")
                rc, out, err = c.tick()
                self.assertEqual(rc, EX_DATAERR, err[:2000])
                errors = vtcsync.error_lines(err)
                self.assertEqual(len(errors), 1, err[:2000])
                self.assertTrue(errors[0].startswith(vtcsync.ERROR_PREFIX))
                self.assertIn(f"{c.audit} line 13", errors[0])
                self.assertIn(reason, errors[0])
                self.assertLess(len(errors[0]), 1000, "one short line")
                self.assertEqual(c.db.cursor_line(), 12)
                self.assertEqual(vtcsync.walk_state(c.db), before)
                self.assertEqual(c.db.integrity(), "ok")
                # Mended (the writer rewrote it): both lines are taken.
                c.audit.write_bytes(b"".join(l + b"\n" for l in self.lines))
                rc, _, err = c.tick()
                self.assertEqual(rc, EX_OK, err)
                self.assertEqual(c.db.cursor_line(), 14)
                members = {m["did"] for m in c.db.members()}
                self.assertLessEqual({"did:key:z6MkFrank", "did:key:z6MkGus"},
                                     members)

    def test_did_with_control_characters_is_an_invalid_event(self):
        """A signed, well-formed entry whose target DID carries control
        characters (escaped in JSON) creates no job: outcome invalid_event,
        and the walk goes on."""
        c = self.community_after_basic()
        bad_dids = ["did:key:z6Mk\u0001Ctl", "did:key:z6Mk\u007fDel",
                    "did:key:z6Mk\nLf", "did:key:\u0000"]
        c.append_script([{"type": "MemberAdded", "data": {"role": "member"},
                          "actor": ADMIN, "target": d} for d in bad_dids] +
                        [{"type": "MemberAdded", "data": {"role": "member"},
                          "actor": ADMIN, "target": "did:key:z6MkGood"}],
                        seed=607)
        ids = vtcsync.event_ids(c.audit)
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(c.db.cursor_line(), 17)
        invalid = [o["job_id"] for o in c.db.outcomes() if o["kind"] == "invalid_event"]
        self.assertEqual(invalid, [ids[n] for n in range(13, 17)])
        members = {m["did"] for m in c.db.members()}
        self.assertIn("did:key:z6MkGood", members)
        self.assertFalse(members & set(bad_dids))
        self.assertNotIn("\\u0001", json.dumps(c.db.outcomes()))


if __name__ == "__main__":
    unittest.main()
