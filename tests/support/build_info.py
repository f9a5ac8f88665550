"""This source tree's builds: what `vtc-sync --version` must say (the
version in meson.build and, for a build from a git checkout, the
revision), and its packaging scripts run as the tests run them."""

import os
import pathlib
import re
import shutil
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]

VERSION_LINE = re.compile(r"vtc-sync (\d+\.\d+\.\d+)(?: \(git ([0-9a-f]{12})(-dirty)?\))?")


def project_version():
    text = (REPO / "meson.build").read_text()
    return re.search(r"version: '([^']+)'", text).group(1)


def source_revision():
    """HEAD's abbreviated hash, or None when the tree is not a git checkout
    or git is not installed (the build cannot tell the revision either)."""
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        return None
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()[:12]


def check_version_line(test, line, revision=True):
    """Asserts `line` is this tree's version line. revision=False: a build
    that must not name a revision (one made outside the checkout)."""
    m = VERSION_LINE.fullmatch(line.strip())
    test.assertIsNotNone(m, f"not a version line: {line!r}")
    test.assertEqual(m.group(1), project_version())
    test.assertEqual(m.group(2), source_revision() if revision else None, line)


def run_script(name, *args, timeout=1500):
    """Runs scripts/NAME ARGS (the package or image builder; without the
    unit tests in the package unless DEB_BUILD_OPTIONS says otherwise) and
    returns its stdout; a failure raises with the end of its stderr."""
    env = dict(os.environ)
    env.setdefault("DEB_BUILD_OPTIONS", "nocheck")
    p = subprocess.run([str(REPO / "scripts" / name), *map(str, args)],
                       capture_output=True, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"scripts/{name} failed ({p.returncode}):\n{p.stderr[-4000:]}")
    return p.stdout
