"""The Debian package scripts/package builds: its files, its dependencies,
maintainer scripts that leave the units disabled, lintian's verdict, and
the binary from the unpacked package."""

import os
import pathlib
import re
import subprocess
import tempfile
import unittest

import build_info

DIST = pathlib.Path(os.environ["VTC_DIST"])
VERSION = build_info.project_version()
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                      check=True).stdout.strip()
DEB = DIST / f"vtc-sync_{VERSION}_{ARCH}.deb"


def build_package():
    """Runs scripts/package into DIST afresh: a package left by an earlier
    run would say nothing about this tree."""
    DEB.unlink(missing_ok=True)
    return build_info.run_script("package", DIST)


def deb(*args):
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True,
                          check=True).stdout


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = build_package()
        listing = deb("--contents", str(DEB))
        # "drwxr-xr-x root/root 0 2026-12-07 12:00 ./etc/vtc-sync/"
        cls.paths = {line.split(None, 5)[5].split(" -> ")[0].lstrip(".")
                     for line in listing.splitlines()}
        cls.control = deb("--field", str(DEB))

    def field(self, name):
        m = re.search(rf"(?m)^{name}: (.*)$", self.control)
        self.assertIsNotNone(m, f"no {name} field")
        return m.group(1)

    def test_name_and_version(self):
        self.assertTrue(DEB.is_file(), DEB)
        self.assertEqual(self.field("Package"), "vtc-sync")
        self.assertEqual(self.field("Version"), VERSION)
        self.assertIn(str(DEB), self.out)

    def test_files(self):
        expected = {
            "/usr/bin/vtc-sync",
            "/usr/share/man/man1/vtc-sync.1.gz",
            "/usr/share/man/man5/vtc-sync.toml.5.gz",
            "/usr/share/bash-completion/completions/vtc-sync",
            "/lib/systemd/system/vtc-sync.service",
            "/lib/systemd/system/vtc-sync.timer",
            "/lib/systemd/system/vtc-sync@.service",
            "/lib/systemd/system/vtc-sync@.timer",
            "/usr/share/doc/vtc-sync/copyright",
            "/usr/share/doc/vtc-sync/README.md.gz",
            "/usr/share/doc/vtc-sync/NEWS.md.gz",
            # Copied and edited in place: not compressed.
            "/usr/share/doc/vtc-sync/vtc-sync.toml.example",
            "/usr/share/doc/vtc-sync/vtc-sync.cron",
            "/usr/share/doc/vtc-sync/vtc-sync-cronjob.yaml",
            "/etc/vtc-sync/",
        }
        self.assertEqual(expected - self.paths, set(), "missing from the package")
        # The state directory is systemd's (StateDirectory=), made at the
        # service's first start; no configuration is shipped in /etc.
        self.assertFalse([p for p in self.paths if p.startswith("/var/")])
        self.assertEqual(sorted(p for p in self.paths if p.startswith("/etc/")),
                         ["/etc/", "/etc/vtc-sync/"])

    def test_depends_names_the_libraries_loaded_at_run_time(self):
        depends = [d.strip().split()[0] for d in self.field("Depends").split(",")]
        for lib in ("libcurl4", "libssl3", "libsqlite3-0", "libc6"):
            self.assertIn(lib, depends)

    def test_units_neither_enabled_nor_started(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["dpkg-deb", "--control", str(DEB), tmp], check=True)
            scripts = "".join(pathlib.Path(tmp, name).read_text()
                              for name in ("preinst", "postinst", "prerm", "postrm")
                              if pathlib.Path(tmp, name).exists())
        # Starts and restarts only through deb-systemd-invoke, which never
        # starts a disabled or static unit; never systemctl itself.
        for m in re.finditer(r"(?m)^.*\bsystemctl (\S+).*$", scripts):
            self.assertEqual(m.group(1), "--system", m.group(0))  # daemon-reload
            self.assertIn("daemon-reload", m.group(0))
        self.assertIn("deb-systemd-invoke stop", scripts)  # on removal
        # An enable only where the operator had enabled it before (upgrade).
        for m in re.finditer(r"deb-systemd-helper (?:--quiet )?enable", scripts):
            last_lines = scripts[:m.start()].splitlines()[-3:]
            self.assertIn("was-enabled", "".join(last_lines), scripts)

    def test_lintian_has_no_error_and_no_warning(self):
        report = (DIST / "lintian.txt").read_text()
        tags = [line for line in report.splitlines() if re.match(r"[EW]: ", line)]
        self.assertEqual(tags, [], "explain a warning in debian/*lintian-overrides")

    def test_unpacked_binary_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["dpkg-deb", "-x", str(DEB), tmp], check=True)
            exe = os.path.join(tmp, "usr", "bin", "vtc-sync")
            p = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            # Built from a copy of the sources, not from the git checkout.
            build_info.check_version_line(self, p.stdout, revision=False)
            p = subprocess.run([exe, "status"], capture_output=True, text=True, timeout=30,
                               env={"PATH": "/usr/bin:/bin",
                                    "VTC_SYNC_CONFIG": os.path.join(tmp, "none.toml")})
            self.assertEqual(p.returncode, 78, p.stderr)  # EX_CONFIG: no such file
            self.assertIn("none.toml", p.stderr)


if __name__ == "__main__":
    unittest.main()
