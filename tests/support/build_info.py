"""What `vtc-sync --version` must say for this source tree: the version in
meson.build and, for a build from a git checkout, the revision."""

import pathlib
import re
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]

VERSION_LINE = re.compile(r"vtc-sync (\d+\.\d+\.\d+)(?: \(git ([0-9a-f]{12})(-dirty)?\))?")


def project_version():
    text = (REPO / "meson.build").read_text()
    return re.search(r"version: '([^']+)'", text).group(1)


def source_revision():
    """HEAD's abbreviated hash, or None when the tree is not a git checkout."""
    if not (REPO / ".git").exists():
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
