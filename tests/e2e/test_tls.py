"""End to end: vtc-sync against an HTTPS test registry on 127.0.0.1 with a
throw-away PKI (registry.ca_file, client_cert, client_key) and the "config"
answer class of vtc-sync(1), THE REGISTRY: a TLS failure stops dispatch,
spends no attempt, exits 78."""

import json
import os
import pathlib
import shutil
import tempfile
import unittest

import vtcsync
from registry import Registry, make_test_pki, record_id
from vtcsync import Community

vtcsync.binary()  # fail at once, clearly, when VTC_SYNC is not set

DID = vtcsync.COMMUNITY_DID
EX_OK = 0
EX_CONFIG = 78
MEMBERS = [f"did:key:z6MkTls{i}" for i in range(3)]
DISPATCH = {"registry": {"concurrency": 2, "timeout_seconds": 10},
            "sync": {"max_jobs_per_pass": 100}}


class TlsCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki_dir = tempfile.mkdtemp(prefix="vtc-e2e-pki-")
        cls.pki = make_test_pki(cls.pki_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki_dir, ignore_errors=True)

    def start_registry(self, mtls=False):
        kw = dict(tls_cert=self.pki["server_cert"], tls_key=self.pki["server_key"],
                  ca_file=self.pki["ca"])
        if mtls:
            kw.update(client_ca=self.pki["ca"], client_cert=self.pki["client_cert"],
                      client_key=self.pki["client_key"])
        reg = Registry(**kw)
        reg.start()
        self.addCleanup(reg.__exit__, None, None, None)
        self.assertTrue(reg.url.startswith("https://127.0.0.1:"))
        return reg

    def community(self, reg, **registry_keys):
        c = Community(log=None, registry_url=reg.url,
                      extra={**DISPATCH,
                             "registry": {**DISPATCH["registry"], **registry_keys}})
        self.addCleanup(c.cleanup)
        script = c.dir / "adds.jsonl"
        script.write_text("".join(
            json.dumps({"type": "MemberAdded", "actor": "did:key:z6MkAdmin",
                        "target": m, "data": {"role": "member"}}) + "\n"
            for m in MEMBERS))
        c.gen_audit("--script", script, "-o", c.audit)
        return c

    def reconfigure(self, c, **registry_keys):
        c.extra.setdefault("registry", {}).update(registry_keys)
        for k, v in list(c.extra["registry"].items()):
            if v is None:
                del c.extra["registry"][k]
        c.write_config()

    def tick(self, c):
        return c.run("tick", timeout=60)

    def assert_works(self, reg, c):
        code, _, err = self.tick(c)
        self.assertEqual(code, EX_OK, err)
        self.assertEqual(set(reg.records()), {record_id(DID, m) for m in MEMBERS})
        self.assertEqual(c.db.scalar("SELECT count(*) FROM jobs"), 0)

    def assert_config_failure(self, reg, c, *needles):
        code, _, err = self.tick(c)
        self.assertEqual(code, EX_CONFIG, err)
        errors = [l for l in vtcsync.error_lines(err) if l]
        self.assertTrue(errors, err)
        self.assertTrue(all(l.startswith(vtcsync.ERROR_PREFIX) for l in errors), err)
        for needle in needles:
            self.assertIn(needle, err)
        # Nothing marked failed, no attempt spent, nothing reached the store.
        jobs = [(j["state"], j["attempts"]) for j in c.db.jobs()]
        self.assertEqual(jobs, [("pending", 0)] * len(MEMBERS))
        self.assertEqual(c.db.scalar(
            "SELECT count(*) FROM outcomes WHERE kind = 'failed'"), 0)
        self.assertEqual(reg.records(), {})
        self.assertEqual([r for r in reg.requests() if r["status"] == 200], [])
        return err


class ServerVerification(TlsCase):
    def test_ca_file_set_works(self):
        reg = self.start_registry()
        c = self.community(reg, ca_file=self.pki["ca"])
        self.assert_works(reg, c)
        self.assertEqual(len(reg.requests()), len(MEMBERS))

    def test_private_ca_without_ca_file_is_78_then_works_once_set(self):
        reg = self.start_registry()
        c = self.community(reg)
        self.assert_config_failure(reg, c, "certificate")
        # The handshake failed: no HTTP request reached the registry.
        self.assertEqual(reg.requests(), [])
        # Fixed configuration: the same jobs go out, first attempt.
        self.reconfigure(c, ca_file=self.pki["ca"])
        self.assert_works(reg, c)
        attempts = [o["attempts"] for o in c.db.outcomes() if o["kind"] == "succeeded"]
        self.assertEqual(attempts, [1] * len(MEMBERS))

    def test_wrong_ca_file_is_78(self):
        reg = self.start_registry()
        c = self.community(reg, ca_file=self.pki["wrong_ca"])
        self.assert_config_failure(reg, c)
        self.assertEqual(reg.requests(), [])


class MutualTls(TlsCase):
    def test_client_certificate_works(self):
        reg = self.start_registry(mtls=True)
        c = self.community(reg, ca_file=self.pki["ca"],
                           client_cert=self.pki["client_cert"],
                           client_key=self.pki["client_key"])
        self.assert_works(reg, c)

    def test_no_client_certificate_is_78(self):
        reg = self.start_registry(mtls=True)
        c = self.community(reg, ca_file=self.pki["ca"])
        self.assert_config_failure(reg, c)
        self.assertEqual(reg.requests(), [])
        # With the certificate configured, the same jobs go out.
        self.reconfigure(c, client_cert=self.pki["client_cert"],
                         client_key=self.pki["client_key"])
        self.assert_works(reg, c)

    def test_client_certificate_from_the_wrong_ca_is_78(self):
        # The server refuses it; under TLS 1.3 libcurl sees a receive error
        # naming the alert, which must be a config failure, not a retry.
        reg = self.start_registry(mtls=True)
        c = self.community(reg, ca_file=self.pki["ca"],
                           client_cert=self.pki["wrong_client_cert"],
                           client_key=self.pki["wrong_client_key"])
        self.assert_config_failure(reg, c)
        self.assertEqual(reg.requests(), [])
        h = c.status_json()["registry"]
        self.assertEqual(h["consecutive_failures"], 0,
                         "a TLS refusal counted as a breaker failure")

    def test_client_key_readable_by_others_is_78(self):
        reg = self.start_registry(mtls=True)
        c = self.community(reg, ca_file=self.pki["ca"],
                           client_cert=self.pki["client_cert"])
        key = c.dir / "client.key"
        shutil.copyfile(self.pki["client_key"], key)
        os.chmod(key, 0o644)
        self.reconfigure(c, client_key=str(key))
        err = self.assert_config_failure(reg, c, "registry.client_key")
        self.assertEqual(reg.requests(), [])
        # The key's contents never appear in the error.
        body = pathlib.Path(self.pki["client_key"]).read_text().splitlines()[1]
        self.assertNotIn(body, err)
        os.chmod(key, 0o600)
        self.assert_works(reg, c)


if __name__ == "__main__":
    unittest.main()
