"""Memory errors and leaks: a working pass (walk, sends with concurrency,
deletes, WAL checkpoint), an idle pass and the read commands run under
valgrind memcheck with --leak-check=full; any error or leak (definite,
indirect or possible) fails. A few seconds each, so it runs every time,
except against a sanitizer build, which valgrind cannot run."""

import json
import subprocess
import unittest

import vtcsync
from registry import Registry
from vtcsync import Community

vtcsync.binary()

VALGRIND = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--show-leak-kinds=definite,indirect,possible"]


def sanitized(binary):
    libs = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in libs or "libubsan" in libs


class Memcheck(unittest.TestCase):
    def run_under_valgrind(self, c, *args):
        p = subprocess.run([*VALGRIND, vtcsync.binary(), *c.args(*args)],
                           env=vtcsync.clean_env(), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=300)
        err = p.stderr.decode("utf-8", "replace")
        self.assertNotIn("==", err, f"valgrind reported on {args}:\n{err}")
        return p.returncode, p.stdout.decode(), err

    def test_passes_and_read_commands_are_clean(self):
        if sanitized(vtcsync.binary()):
            self.skipTest("a sanitizer build does not run under valgrind")
        with Registry() as reg:
            c = Community(registry_url=reg.url, extra={
                "registry": {"concurrency": 4}, "sync": {"max_jobs_per_pass": 100}})
            self.addCleanup(c.cleanup)
            rc, _, err = self.run_under_valgrind(c, "tick")
            self.assertEqual(rc, 0, err)
            self.assertEqual(c.db.counts()["jobs"], 0)
            self.assertTrue(any(r["method"] == "DELETE" for r in reg.requests()))
            rc, _, err = self.run_under_valgrind(c, "-q", "tick")
            self.assertEqual((rc, err), (0, ""))
            for args in (("status", "--json"), ("queue", "list"),
                         ("outcomes", "list", "--json"), ("audit", "verify")):
                rc, out, err = self.run_under_valgrind(c, *args)
                self.assertEqual(rc, 0, f"{args}: {err}")
                self.assertTrue(out)
            # A failing pass too: errors unwind cleanly.
            c.copy_log("tampered.audit.jsonl")
            rc, _, err = self.run_under_valgrind(c, "tick")
            self.assertEqual(rc, vtcsync.EX_DATAERR, err)
            json.loads(self.run_under_valgrind(c, "status", "--json")[1])


if __name__ == "__main__":
    unittest.main()
