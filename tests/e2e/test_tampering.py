"""Tampering (vtc-sync(1), THE AUDIT LOG): a catalogue of attacks on a signed
log, one row each. Every attack stops the pass with exit 65 and one error
line naming the file, the line and the reason, before anything from the
attacked entry onward reaches the registry; the departure and the delete
written before it still go out.

test_walk.py checks the walk state the public invalid vectors leave
(tampered payload, dropped line, swapped DID, version-1 row); this table
adds the registry's view of every attack, and the attacks those vectors do
not cover."""

import json
import sys
import unittest

import vtcsync
from registry import Registry, record_id
from vtcsync import EX_DATAERR, EX_OK, Community

vtcsync.binary()

ADMIN = "did:key:z6MkAdmin"
MALLORY = "did:key:z6MkMallory"
BAD = 11  # the attacked line


def member(name):
    return f"did:key:z6Mk{name}"


def script(key_at_bad=None):
    added = [{"type": "MemberAdded", "actor": ADMIN, "target": member(n),
              "data": {"role": "member"}} for n in "ABCDEF"]
    rest = [
        {"type": "MemberRemoved", "actor": ADMIN, "target": member("A"),
         "data": {"disposition": "tombstone"}},
        {"type": "MemberRemoved", "actor": ADMIN, "target": member("B"),
         "data": {"disposition": "purge"}},
        {"type": "MemberAdded", "actor": ADMIN, "target": member("G"),
         "data": {"role": "member"}},
        {"type": "MemberAdded", "actor": ADMIN, "target": member("H"),
         "data": {"role": "member"}},
        # line 11, the one attacked
        {"type": "MemberRemoved", "actor": ADMIN, "target": member("C"),
         "data": {"disposition": "tombstone"}},
        {"type": "MemberRemoved", "actor": ADMIN, "target": member("D"),
         "data": {"disposition": "purge"}},
        {"type": "MemberRemoved", "actor": ADMIN, "target": member("E"),
         "data": {"disposition": "tombstone"}},
        {"type": "MemberAdded", "actor": ADMIN, "target": member("I"),
         "data": {"role": "member"}},
        {"type": "MemberRemoved", "actor": ADMIN, "target": member("F"),
         "data": {"disposition": "historical"}},
    ]
    entries = added + rest
    if key_at_bad is not None:
        entries[BAD - 1] = dict(entries[BAD - 1], key=key_at_bad)
    return entries


# What may reach the registry while the walk stops at line 11: the
# departure of A (line 7) and the delete of B (line 8).
ALLOWED = {record_id(vtcsync.COMMUNITY_DID, member(n)) for n in "AB"}


def edit(line, old, new):
    assert old in line, (old, line)
    return line.replace(old, new, 1)


def field(line, name):
    return json.loads(line)[name]


def v1_row(line):
    """Line rewritten as a version-1 row (no chain fields) adding Mallory."""
    doc = json.loads(line)
    doc.update(schema_version=1, target_did_plain=MALLORY,
               event={"type": "MemberAdded", "data": {"role": "admin"}})
    del doc["prev_hash"], doc["entry_hash"]
    return json.dumps(doc, separators=(",", ":")).encode()


# name -> (change to the list of lines, reason); the attacked line is BAD.
def at_bad(f):
    return lambda lines, signed: lines[:BAD - 1] + [f(lines[BAD - 1])] + lines[BAD:]


ATTACKS = {
    "edited payload": (at_bad(lambda l: edit(l, b'"tombstone"', b'"purge"')),
                       "tampered"),
    "edited timestamp": (at_bad(lambda l: edit(
        l, field(l, "timestamp").encode(),
        field(l, "timestamp").replace("T00:00:", "T00:01:").encode())), "tampered"),
    "edited event id": (at_bad(lambda l: edit(
        l, field(l, "event_id").encode(),
        field(l, "event_id")[:-1].encode() +
        (b"0" if field(l, "event_id")[-1] != "0" else b"1"))), "tampered"),
    "reordered lines": (lambda lines, signed: lines[:BAD - 1] + [lines[BAD], lines[BAD - 1]]
                        + lines[BAD + 1:], "broken-link"),
    "dropped line": (lambda lines, signed: lines[:BAD - 1] + lines[BAD:], "broken-link"),
    "duplicated line": (lambda lines, signed: lines[:BAD - 1] + [lines[BAD - 2]]
                        + lines[BAD - 1:], "broken-link"),
    "forged version-1 row after the chain": (
        lambda lines, signed: lines[:BAD - 1] + [v1_row(lines[BAD - 1])] + lines[BAD - 1:],
        "legacy"),
    "swapped plaintext DID": (at_bad(lambda l: edit(
        l, json.dumps(member("C")).encode(), json.dumps(MALLORY).encode())), "hmac"),
    "unknown key id": (lambda lines, signed: signed, "unknown-key"),
    "duplicated JSON member": (at_bad(lambda l: edit(
        l, b'"event_version":1,', b'"event_version":1,"event_version":1,')),
        "unparseable"),
    "second event member": (at_bad(lambda l: l[:-1] + b',"event":{"type":"MemberAdded",'
                                   b'"data":{"role":"admin"}}}'), "unparseable"),
    "line cut in the middle of the file": (at_bad(lambda l: l[:len(l) // 2]),
                                           "unparseable"),
}


class Tampering(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = Registry().start()
        base = Community(log=None, keys=None)
        cls.base = base
        keys3 = base.dir / "keys3.json"
        for name, entries in (("plain", script()), ("signed", script(key_at_bad=2))):
            path = base.dir / f"{name}.script.jsonl"
            path.write_text("".join(json.dumps(e) + "\n" for e in entries))
            vtcsync.gen_audit("--script", path, "--keys", keys3, "--key-count", 3,
                              "--seed", 7, "-o", base.dir / f"{name}.jsonl")
        cls.lines = vtcsync.log_lines(base.dir / "plain.jsonl")
        cls.signed = vtcsync.log_lines(base.dir / "signed.jsonl")
        assert cls.lines[:BAD - 1] == cls.signed[:BAD - 1]
        # The community knows the first two keys only.
        doc = json.loads(keys3.read_text())
        doc["keys"] = doc["keys"][:2]
        cls.keys = base.dir / "keys2.json"
        cls.keys.write_text(json.dumps(doc))

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()
        cls.base.cleanup()

    def community(self, lines):
        self.registry.reset()
        c = Community(log=None, keys=str(self.keys), registry_url=self.registry.url,
                      extra={"sync": {"max_jobs_per_pass": 100},
                             "registry": {"concurrency": 4}})
        self.addCleanup(c.cleanup)
        c.audit.write_bytes(b"".join(l + b"\n" for l in lines))
        return c

    def assert_stopped(self, c, line, reason, sent_before=()):
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_DATAERR, err)
        errors = vtcsync.error_lines(err)
        self.assertEqual(len(errors), 1, err)
        self.assertTrue(errors[0].startswith(vtcsync.ERROR_PREFIX + "audit log "))
        self.assertIn(f"{c.audit} line {line}", errors[0])
        self.assertIn(reason, errors[0])
        sent = self.registry.requests()
        return [r for r in sent if r["seq"] > len(sent_before)]

    def test_attacks(self):
        self.assertEqual(len(self.lines), 15)
        for name, (attack, reason) in ATTACKS.items():
            with self.subTest(name):
                tampered = attack(list(self.lines), list(self.signed))
                self.assertNotEqual(tampered, self.lines)
                c = self.community(tampered)
                sent = self.assert_stopped(c, BAD, reason)
                paths = {r["path"].rsplit("/", 1)[1] for r in sent}
                self.assertEqual(paths, ALLOWED,
                                 "only the removals before the attack go out")
                self.assertEqual(c.db.cursor_line(), BAD - 1)
                self.assertTrue(all(j["event_line"] < BAD for j in c.db.jobs()))
                self.assertNotIn(MALLORY, json.dumps(c.db.members()))
                # And it stays stopped.
                rc, _, err = c.tick()
                self.assertEqual(rc, EX_DATAERR, err)
                self.assertEqual({r["path"].rsplit("/", 1)[1]
                                  for r in self.registry.requests()}, ALLOWED)
        sys.stderr.write(f"\ntampering: {len(ATTACKS)} attacks detected at line "
                         f"{BAD}, nothing from them sent\n")

    def test_file_replaced_by_another_valid_chain(self):
        c = self.community(self.lines[:BAD - 1])
        rc, _, err = c.tick()
        self.assertEqual(rc, EX_OK, err)
        before = self.registry.requests()
        self.assertTrue(before)
        other = c.dir / "other.jsonl"
        c.gen_audit("--entries", 15, "--members", 5, "--seed", 99, "-o", other)
        other.replace(c.audit)
        sent = self.assert_stopped(c, BAD - 1, "discontinuity", before)
        self.assertEqual(sent, [], "nothing from the new chain is sent")
        self.assertEqual(c.db.cursor_line(), BAD - 1)


if __name__ == "__main__":
    unittest.main()
