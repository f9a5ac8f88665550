"""End to end: members who rotate their DID or give and withdraw consent to
being published, with real `vtc-sync tick` passes against the test
registry on 127.0.0.1 and signed logs written by gen-audit. Time is moved
with faketime, never slept."""

import json
import unittest

from test_policy import PolicyCase, add, entry, remove, rid

OLD = "did:key:z6MkRotatingOldKey"
NEW = "did:key:z6MkRotatingNewKey"
KEEP = "did:key:z6MkStaysPut"
ANN = "did:key:z6MkConsentAnn"
BEN = "did:key:z6MkConsentBen"


def rotate(old, new, reason="routine"):
    # The actor of a rotation is the new DID, its target the old one.
    return entry("DidRotated", new, old,
                 {"oldDid": old, "newDid": new, "method": "did:key",
                  "rotationReason": reason}, None)


def consent(member, value, with_change=True):
    data = {"fieldsChanged": ["publishConsent"]}
    if with_change:
        data["changes"] = [{"field": "publishConsent", "old": not value,
                            "new": value}]
    return entry("MemberUpdated", member, member, data, None)


class IdentityCase(PolicyCase):
    def in_registry(self):
        return {r["entity_id"]: r for r in self.registry.records().values()}

    def records_show(self, c, did, expect=0):
        out, _ = self.run_cmd(c, "records", "show", did, "--json", expect=expect)
        return json.loads(out) if expect == 0 else None


class Rotation(IdentityCase):
    def test_publishes_the_new_did_and_forgets_the_old_one(self):
        c = self.community([add(OLD), add(KEEP), rotate(OLD, NEW)], window=0)
        self.reveal(c, 2)
        self.assertEqual(self.tick(c), sorted([("PUT", rid(OLD)), ("PUT", rid(KEEP))]))
        before = self.in_registry()[OLD]
        self.assertIn(OLD.encode(), self.db_bytes(c))
        # A reader keeps the database open, so the pass's own checkpoint
        # must scrub the WAL.
        reader = c.db.connect()
        self.addCleanup(reader.close)
        reader.execute("SELECT count(*) FROM members").fetchall()

        self.reveal(c, 3)
        self.assertEqual(self.tick(c), sorted([("DELETE", rid(OLD)), ("PUT", rid(NEW))]))
        records = self.in_registry()
        self.assertEqual(set(records), {NEW, KEEP})
        # The member continues: same start, same role.
        self.assertEqual(records[NEW]["context"], before["context"])
        raw = self.db_bytes(c)
        self.assertNotIn(OLD.encode(), raw)
        self.assertIn(NEW.encode(), raw)
        self.records_show(c, OLD, expect=66)
        shown = self.records_show(c, NEW)
        self.assertEqual(shown["state"], "present")
        self.assertEqual(shown["member"], {"status": "active", "consent": "unknown"})
        kinds = [(j, d) for j, d in self.outcomes(c, "succeeded")]
        self.assertTrue(any(j.startswith("retire:") for j, _ in kinds), kinds)

    def test_a_retire_answered_503_is_sent_again_and_then_forgotten(self):
        c = self.community([add(OLD), rotate(OLD, NEW)], window=0)
        self.reveal(c, 1)
        self.tick(c)
        self.registry.inject(method="DELETE", status=503, times=1)
        self.reveal(c, 2)
        self.assertEqual(self.tick(c), sorted([("DELETE", rid(OLD)), ("PUT", rid(NEW))]))
        # The old record is still there, and so is the old DID, until the
        # delete succeeds.
        self.assertEqual(set(self.in_registry()), {OLD, NEW})
        jobs = self.jobs(c)
        self.assertEqual(len(jobs), 1)
        self.assertTrue(jobs[0][0].startswith("retire:"), jobs)
        self.assertEqual(jobs[0][1:], ("retire", "pending", 1))
        out, _ = self.run_cmd(c, "queue", "list")
        self.assertIn("retire", out)
        self.assertIn(OLD.encode(), self.db_bytes(c))
        first_key = self.registry.requests("DELETE")[-1]["idempotency_key"]

        self.assertEqual(self.tick(c), [("DELETE", rid(OLD))])
        self.assertEqual(set(self.in_registry()), {NEW})
        self.assertEqual(self.jobs(c), [])
        self.assertNotIn(OLD.encode(), self.db_bytes(c))
        # The same request, sent again, carried the same key.
        self.assertEqual(self.registry.requests("DELETE")[-1]["idempotency_key"],
                         first_key)

    def test_a_departed_member_rotates_without_being_published_again(self):
        c = self.community([add(OLD), remove(OLD, "tombstone"), rotate(OLD, NEW)],
                           window=0)
        self.reveal(c, 2)
        self.tick(c)
        self.assertEqual(self.in_registry()[OLD]["context"]["status"], "departed")
        self.reveal(c, 3)
        self.assertEqual(self.tick(c), [("DELETE", rid(OLD))])
        self.assertEqual(self.in_registry(), {})
        self.assertEqual(self.records_show(c, NEW)["member"]["status"], "departed")

    def test_rotation_then_removal_and_removal_then_rotation(self):
        c = self.community([add(OLD), add(KEEP), rotate(OLD, NEW), remove(NEW, "purge"),
                            remove(KEEP, "purge"), rotate(KEEP, "did:key:z6MkTooLate")],
                           window=0)
        self.reveal(c, 2)
        self.tick(c)
        self.reveal(c, 6)
        self.assertEqual(self.tick(c), sorted([("DELETE", rid(OLD)), ("DELETE", rid(NEW)),
                                               ("DELETE", rid(KEEP))]))
        self.assertEqual(self.in_registry(), {})
        self.assertEqual([d["reason"] for _, d in self.outcomes(c, "skipped")],
                         ["not_a_member"])
        raw = self.db_bytes(c)
        for did in (OLD, NEW, KEEP, "did:key:z6MkTooLate"):
            self.assertNotIn(did.encode(), raw)


    def test_a_rotation_whose_hashes_are_not_its_dids_moves_nothing(self):
        forged = rotate(OLD, NEW)
        forged["actor"] = "did:key:z6MkSomeoneElse"  # hashed as the actor
        forged["redact_actor"] = True                 # only the hash is left
        c = self.community([add(OLD), forged], window=0)
        self.reveal(c, 2)
        self.assertEqual(self.tick(c), [("PUT", rid(OLD))])
        self.assertEqual([d["reason"] for _, d in self.outcomes(c, "invalid_event")],
                         ["did_mismatch"])
        self.assertEqual(self.records_show(c, OLD)["state"], "present")
        self.records_show(c, NEW, expect=66)


class Consent(IdentityCase):
    def test_withdraw_grant_and_a_withdrawal_without_its_value(self):
        c = self.community([add(ANN), consent(ANN, False), consent(ANN, True),
                            consent(ANN, False, with_change=False)], window=0)
        self.reveal(c, 1)
        self.assertEqual(self.tick(c), [("PUT", rid(ANN))])
        published = self.in_registry()[ANN]

        self.reveal(c, 2)
        self.assertEqual(self.tick(c), [("DELETE", rid(ANN))])
        self.assertEqual(self.in_registry(), {})
        shown = self.records_show(c, ANN)
        self.assertEqual(shown["state"], "absent")
        self.assertEqual(shown["member"], {"status": "active", "consent": "withdrawn"})

        self.reveal(c, 3)
        self.assertEqual(self.tick(c), [("PUT", rid(ANN))])
        self.assertEqual(self.in_registry()[ANN], published)

        self.reveal(c, 4)
        self.assertEqual(self.tick(c), [("DELETE", rid(ANN))])
        overrides = [d for _, d in self.outcomes(c, "policy_override")]
        self.assertEqual(overrides, [{"reason": "consent_assumed_withdrawn",
                                      "requested": "unknown", "would_be": "withdrawn",
                                      "effective": "withdrawn"}])
        # Jobs of kind withdraw did the deletes.
        succeeded = {j for j, _ in self.outcomes(c, "succeeded")}
        self.assertIn(c.ids[1], succeeded)
        self.assertIn(c.ids[3], succeeded)

    def test_a_withdrawal_before_the_first_publish_sends_nothing(self):
        c = self.community([add(ANN), consent(ANN, False)], window=0)
        self.reveal(c, 2)
        self.assertEqual(self.tick(c), [])
        self.assertEqual([d["reason"] for _, d in self.outcomes(c, "skipped")],
                         ["consent"])

    def test_require_consent_on_and_off(self):
        c = self.community([add(ANN), add(BEN), consent(BEN, True)],
                           policy={"require_consent": True}, window=0)
        self.reveal(c, 3)
        self.assertEqual(self.tick(c), [("PUT", rid(BEN))])
        # Off: the members of unknown consent are published by reconcile.
        self.write_policy(c, {"require_consent": False})
        self.assertEqual(self.tick(c), [("PUT", rid(ANN))])
        self.assertEqual(set(self.in_registry()), {ANN, BEN})
        # On again: their records are withdrawn, the granted one stays.
        self.write_policy(c, {"require_consent": True})
        self.assertEqual(self.tick(c), [("DELETE", rid(ANN))])
        self.assertEqual(set(self.in_registry()), {BEN})
        self.assertEqual(self.tick(c), [])


if __name__ == "__main__":
    unittest.main()
