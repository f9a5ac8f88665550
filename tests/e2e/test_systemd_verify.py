"""`systemd-analyze verify` on the installed units, in a root that holds the
host's system units and the installed tree (the binary at ExecStart's path,
the man pages Documentation= names). Exits 77 (skipped) only when
systemd-analyze or the host's units are missing."""

import os
import shutil
import subprocess
import sys
import unittest

from installed import Installed

SKIP = 77
HOST_UNITS = "/usr/lib/systemd/system"
UNITS = ("vtc-sync.service", "vtc-sync.timer",
         "vtc-sync@alpha.service", "vtc-sync@alpha.timer")


class Verify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Installed()
        shutil.copytree(HOST_UNITS, cls.inst.staged(HOST_UNITS), symlinks=True,
                        dirs_exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def verify(self, unit, root=None):
        env = dict(os.environ, SYSTEMD_LOG_LEVEL="notice",
                   MANPATH=str(self.inst.staged(self.inst.mandir)))
        p = subprocess.run([ANALYZE, "verify", f"--root={root or self.inst.root}", unit],
                           capture_output=True, text=True, timeout=120, env=env)
        return p.returncode, (p.stdout + p.stderr).strip()

    def test_every_unit_verifies_without_a_warning(self):
        for unit in UNITS:
            with self.subTest(unit):
                code, out = self.verify(unit)
                self.assertEqual((code, out), (0, ""))

    def test_verify_would_catch_a_broken_unit(self):
        # The same check on a unit whose ExecStart names no file fails: the
        # test above is not vacuous.
        service = self.inst.staged(f"{self.inst.unitdir}/vtc-sync.service")
        text = service.read_text()
        broken = text.replace(f"ExecStart={self.inst.bindir}/vtc-sync",
                              "ExecStart=/nonexistent/vtc-sync")
        self.assertNotEqual(broken, text)
        service.write_text(broken)
        try:
            code, out = self.verify("vtc-sync.service")
            self.assertNotEqual((code, out), (0, ""))
            self.assertIn("/nonexistent/vtc-sync", out)
        finally:
            service.write_text(text)


ANALYZE = shutil.which("systemd-analyze")

if __name__ == "__main__":
    if ANALYZE is None or not os.path.isdir(HOST_UNITS):
        print(f"skipped: needs systemd-analyze and {HOST_UNITS} (Debian package systemd)")
        sys.exit(SKIP)
    unittest.main()
