"""The OCI image scripts/image builds, unpacked and run without a container
runtime: its configuration, then `vtc-sync --version` and real passes
against the test registry inside the unpacked root, mounted read-only, as
the image's non-root user, in a network namespace of its own
(image_pass.py). Needs root and mount namespaces (not inside a chroot);
the whole test is skipped (77) where they are missing."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

import build_info

HERE = pathlib.Path(__file__).resolve().parent
DIST = pathlib.Path(os.environ["VTC_DIST"])
VERSION = build_info.project_version()
NAME = f"docker.io/library/vtc-sync:{VERSION}"
UID = 10001


def can_run():
    if os.geteuid() != 0:
        return "needs root: it mounts and chroots"
    p = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True)
    return None if p.returncode == 0 else "unshare --net --mount does not work here"


def blob(layout, digest):
    return pathlib.Path(layout, "blobs", *digest.split(":"))


class Image(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="vtc-image-test.")
        tmp = pathlib.Path(cls.tmp.name)
        out = build_info.run_script("image", DIST)
        cls.archive = pathlib.Path(out.strip().splitlines()[-1])
        layout = tmp / "layout"
        layout.mkdir()
        subprocess.run(["tar", "-C", str(layout), "-xf", str(cls.archive)], check=True)
        cls.index = json.loads((layout / "index.json").read_text())
        (desc,) = cls.index["manifests"]
        cls.manifest = json.loads(blob(layout, desc["digest"]).read_text())
        cls.config_path = blob(layout, cls.manifest["config"]["digest"])
        cls.config = json.loads(cls.config_path.read_text())
        cls.root = tmp / "root"
        cls.root.mkdir()
        for layer in cls.manifest["layers"]:
            subprocess.run(["tar", "-C", str(cls.root), "--numeric-owner", "-xpf",
                            str(blob(layout, layer["digest"]))], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_named_as_the_manifest_names_it(self):
        self.assertEqual(self.archive.name, f"vtc-sync_{VERSION}.oci.tar")
        annotations = self.index["manifests"][0]["annotations"]
        self.assertEqual(annotations["org.opencontainers.image.ref.name"], NAME)
        self.assertEqual(annotations["io.containerd.image.name"], NAME)
        text = (build_info.REPO / "scripts" / "k8s" / "vtc-sync-cronjob.yaml").read_text()
        self.assertIn(f'"image": "vtc-sync:{VERSION}"', text)

    def test_configuration(self):
        config = self.config["config"]
        self.assertEqual(config["User"], f"{UID}:{UID}")
        self.assertEqual(config["Entrypoint"], ["/usr/bin/vtc-sync"])
        self.assertIn("VTC_SYNC_STATE_DB=/var/lib/vtc-sync/state.db", config["Env"])
        self.assertEqual(self.config["os"], "linux")

    def test_no_unit_enabled(self):
        # dpkg ran the package's maintainer scripts when the root was made.
        units = self.root / "etc" / "systemd" / "system"
        enabled = [str(p) for p in units.rglob("*vtc-sync*")] if units.exists() else []
        self.assertEqual(enabled, [])

    def test_user_and_state_directory(self):
        passwd = (self.root / "etc" / "passwd").read_text()
        self.assertIn(f"vtc-sync:x:{UID}:{UID}:", passwd)
        st = (self.root / "var" / "lib" / "vtc-sync").stat()
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (UID, UID, 0o700))

    def test_passes_in_a_read_only_root(self):
        reason = can_run()
        if reason:
            self.skipTest(reason)
        with tempfile.TemporaryDirectory(prefix="vtc-image-pass.") as work:
            work = pathlib.Path(work)
            for d in ("config", "audit", "state"):
                (work / d).mkdir()
            os.chown(work / "state", UID, UID)
            os.chmod(work, 0o755)
            subprocess.run([sys.executable, str(build_info.REPO / "scripts" / "gen-audit"),
                            "--entries", "40", "--members", "8", "--seed", "3",
                            "--keys", str(work / "keys.json"),
                            "-o", str(work / "audit" / "audit.jsonl")],
                           check=True, capture_output=True)
            os.chmod(work / "audit" / "audit.jsonl", 0o644)
            (work / "config" / "vtc-sync.toml").write_text(
                '[vtc]\ndid = "did:webvh:QmImage:community.example"\n\n'
                '[audit]\nsource = "/var/lib/vtc/audit.jsonl"\n')
            p = subprocess.run(
                ["unshare", "--net", "--mount", "--fork", sys.executable,
                 str(HERE / "image_pass.py"), str(self.root), str(self.config_path), str(work)],
                capture_output=True, text=True, timeout=300, env=dict(os.environ))
            self.assertEqual(p.returncode, 0, p.stderr)
            result = json.loads(p.stdout)
            build_info.check_version_line(self, result["version"]["out"], revision=False)
            self.assertEqual(result["tick"]["rc"], 0, result["tick"]["err"])
            self.assertEqual(result["again"]["rc"], 0, result["again"]["err"])
            status = json.loads(result["status"]["out"])
            self.assertEqual(status["jobs"]["pending"], 0, status)
            self.assertGreater(result["records"], 0)
            # A record for every member not forgotten, departed ones included.
            members = status["members"]
            self.assertEqual(result["records"], members["active"] + members["departed"], status)
            self.assertNotEqual(result["write_tmp"], 0, "the root must be read-only")
            self.assertNotEqual(result["write_usr_as_root"], 0, "the root must be read-only")
            self.assertEqual(result["db_owner"], f"{UID}:{UID}")


if __name__ == "__main__":
    # The passes in the image are the point: where they cannot run, the
    # whole test says so (77, counted as skipped), not a quiet "OK".
    result = unittest.main(exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    sys.exit(77 if result.skipped else 0)
