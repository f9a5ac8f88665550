"""The installed tree of the build under test: `meson install --destdir`
into a temporary directory (standard library only).

Environment (set by tests/e2e/meson.build):
  VTC_BUILD_ROOT        the meson build directory
  VTC_INSTALL_BINDIR, VTC_INSTALL_MANDIR, VTC_INSTALL_DATADIR,
  VTC_INSTALL_DOCDIR, VTC_INSTALL_UNITDIR   absolute install directories
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile


def _env(name):
    value = os.environ.get(name)
    if not value:
        sys.stderr.write(f"{name} is not set: run this test through meson test\n")
        raise SystemExit(2)
    return value


class Installed:
    """`meson install` of the build into a fresh DESTDIR (removed by
    cleanup()). Paths are absolute as installed (`bindir`…) and as staged
    (`staged(path)`)."""

    def __init__(self):
        self.build = _env("VTC_BUILD_ROOT")
        self.bindir = _env("VTC_INSTALL_BINDIR")
        self.mandir = _env("VTC_INSTALL_MANDIR")
        self.datadir = _env("VTC_INSTALL_DATADIR")
        self.docdir = _env("VTC_INSTALL_DOCDIR")
        self.unitdir = _env("VTC_INSTALL_UNITDIR")
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="vtc-install-"))
        meson = shutil.which("meson")
        if meson is None:
            raise AssertionError("meson is not on PATH")
        p = subprocess.run([meson, "install", "-C", self.build, "--no-rebuild",
                            "--destdir", str(self.root)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        if p.returncode != 0:
            self.cleanup()
            raise AssertionError(f"meson install failed ({p.returncode}): "
                                 f"{p.stdout.decode()} {p.stderr.decode()}")

    def staged(self, path):
        """Where the installed absolute `path` is under DESTDIR."""
        return self.root / str(path).lstrip("/")

    def files(self):
        """Every file and symlink installed, as absolute installed paths."""
        out = set()
        for dirpath, _dirs, names in os.walk(self.root):
            for n in names:
                full = pathlib.Path(dirpath) / n
                out.add("/" + str(full.relative_to(self.root)))
        return out

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)
