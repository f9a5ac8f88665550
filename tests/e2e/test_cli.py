"""vtc-sync command line: options, exit codes, configuration errors, read
commands, URL rules and the database's binding (vtc-sync(1),
vtc-sync.toml(5))."""

import json
import os
import shutil
import subprocess
import unittest

import build_info
import vtcsync
from vtcsync import (ERROR_PREFIX, EX_CONFIG, EX_IOERR,
                     EX_NOINPUT, EX_OK, EX_USAGE, Community)

vtcsync.binary()  # fail at once, clearly, when VTC_SYNC is not set


def unshare_wrapper():
    """`unshare -n` when it works here: no network at all for the process."""
    if shutil.which("unshare") is None:
        return ()
    try:
        p = subprocess.run(["unshare", "-n", "true"], capture_output=True,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return ("unshare", "-n") if p.returncode == 0 else ()


def expected_live_ids():
    """Event ids of the live jobs basic.expected.json lists, by member."""
    ids = vtcsync.event_ids(vtcsync.data_file("basic.audit.jsonl"))
    expected = vtcsync.load_json("basic.expected.json")
    return {j["member"]: ids[j["event_line"]] for j in expected["jobs"]}


class CliTest(unittest.TestCase):
    def setUp(self):
        self.c = Community()
        self.addCleanup(self.c.cleanup)

    # Each case: (name, prepare(community) -> argv, env(community) or None,
    #             exit code, stdout contains [..], stderr contains [..]).
    # Every case runs on a fresh community: some edit its files.
    @staticmethod
    def cases():
        def plain(*args):
            return lambda c: list(args)

        def with_config(*args):
            return lambda c: c.args(*args)

        def edited_config(name, **sections):
            def prepare(c):
                path = c.dir / name
                c.write_config(path, text=vtcsync.to_toml(
                    c.config_sections(**sections)))
                return ["-c", str(path), "tick"]
            return prepare

        def chmod_key(mode):
            def prepare(c):
                os.chmod(c.key_path, mode)
                return c.args("tick")
            return prepare

        def missing_audit(c):
            c.audit.unlink()
            return c.args("tick")

        def nowhere(c):
            return c.dir / "nowhere.toml"

        return [
            ("version", plain("--version"), None, EX_OK, ["vtc-sync 0."], []),
            ("help", plain("--help"), None, EX_OK,
             ["tick", "status", "queue"], []),
            ("help-after-command", plain("queue", "list", "--help"), None,
             EX_OK, ["--state", "--limit", "--json"], []),
            ("no-command", plain(), None, EX_USAGE, [], []),
            ("unknown-command", with_config("frobnicate"), None, EX_USAGE,
             [], ["frobnicate"]),
            ("unknown-option", with_config("tick", "--frobnicate"), None,
             EX_USAGE, [], ["--frobnicate"]),
            ("bad-limit", with_config("queue", "list", "--limit", "abc"),
             None, EX_USAGE, [], ["--limit"]),
            ("limit-zero", with_config("queue", "list", "--limit", "0"), None,
             EX_USAGE, [], ["--limit"]),
            ("bad-state", with_config("queue", "list", "--state", "done"),
             None, EX_USAGE, [], ["--state"]),
            ("bad-log-format", with_config("--log-format", "xml", "status"),
             None, EX_USAGE, [], ["--log-format"]),
            ("missing-config", lambda c: ["-c", str(nowhere(c)), "status"],
             None, EX_CONFIG, [], [nowhere]),
            ("missing-config-env", plain("status"),
             lambda c: {"VTC_SYNC_CONFIG": str(nowhere(c))}, EX_CONFIG, [],
             [nowhere]),
            ("unknown-config-key",
             edited_config("unknown-key.toml", audit={"no_such_key": 1}),
             None, EX_CONFIG, [], ["audit.no_such_key"]),
            ("unknown-config-section",
             edited_config("unknown-section.toml", nosection={"foo": 1}),
             None, EX_CONFIG, [], ["nosection"]),
            ("unknown-env-variable", with_config("status"),
             lambda c: {"VTC_SYNC_FOO": "1"}, EX_CONFIG, [], ["VTC_SYNC_FOO"]),
            ("bad-env-integer", with_config("tick"),
             lambda c: {"VTC_SYNC_SYNC_MAX_ATTEMPTS": "many"}, EX_CONFIG, [],
             ["VTC_SYNC_SYNC_MAX_ATTEMPTS"]),
            ("key-file-0644", chmod_key(0o644), None, EX_CONFIG, [],
             [lambda c: c.key_path]),
            ("key-file-0604", chmod_key(0o604), None, EX_CONFIG, [],
             [lambda c: c.key_path]),
            ("missing-audit-source", missing_audit, None, EX_IOERR, [],
             [lambda c: c.audit]),
            ("url-cleartext-remote",
             edited_config("url1.toml", registry={"url": "http://example.org/"}),
             None, EX_CONFIG, [], ["registry.url"]),
            ("url-userinfo-trick",
             edited_config("url2.toml",
                           registry={"url": "http://localhost:80@evil.example"}),
             None, EX_CONFIG, [], ["registry.url"]),
        ]

    def run_case(self, prepare, env):
        c = Community()
        self.addCleanup(c.cleanup)
        argv = prepare(c)
        # Config errors on a tick must not depend on the network: run those
        # without one when the system allows it.
        wrapper = unshare_wrapper() if "tick" in argv else ()
        rc, out, err = vtcsync.run(*argv, env=env(c) if env else None,
                                   wrapper=wrapper)
        return c, rc, out, err

    def test_case_table(self):
        for name, prepare, env, code, out_has, err_has in self.cases():
            with self.subTest(name):
                c, rc, out, err = self.run_case(prepare, env)
                self.assertEqual(rc, code,
                                 f"{name}: stdout={out!r} stderr={err!r}")
                for s in out_has:
                    self.assertIn(s, out, f"{name}: stdout lacks {s!r}")
                for s in err_has:
                    s = str(s(c)) if callable(s) else s
                    self.assertIn(s, err, f"{name}: stderr lacks {s!r}")

    def test_error_output_is_one_prefixed_line(self):
        """Each cause prints one line `vtc-sync: error: …` (vtc-sync(1),
        EXIT STATUS)."""
        for name, prepare, env, code, _, _ in self.cases():
            if code == EX_OK:
                continue
            with self.subTest(name):
                _, rc, out, err = self.run_case(prepare, env)
                self.assertEqual(rc, code)
                lines = vtcsync.error_lines(err)
                self.assertEqual(len(lines), 1,
                                 f"{name}: want one error line, got {lines!r}")
                self.assertTrue(lines[0].startswith(ERROR_PREFIX),
                                f"{name}: {lines[0]!r}")

    def test_version_output(self):
        rc, out, err = vtcsync.run("--version")
        self.assertEqual(rc, 0)
        build_info.check_version_line(self, out)
        self.assertEqual(err, "")

    # Every command that reads the state database: only tick
    # creates or migrates it.
    DB_COMMANDS = (["status"], ["status", "--json"], ["queue", "list"],
                   ["queue", "list", "--json"], ["queue", "show", "j1"],
                   ["queue", "retry", "j1"], ["queue", "discard", "--all-failed", "--yes"],
                   ["records", "list"], ["records", "show", "did:key:z6MkAlice"],
                   ["drift"], ["reconcile", "--dry-run"], ["reconcile"],
                   ["outcomes", "list"],
                   ["outcomes", "prune", "--before", "5", "--yes"],
                   ["audit", "skip", "9", "--event-id", "e", "--yes"],
                   ["backup", "/nonexistent-dir/copy.db"])

    def test_db_commands_refuse_an_older_or_newer_schema(self):
        import sqlite3
        for version, says in ((0, "older than any"), (99, "newer")):
            db = self.c.dir / f"v{version}.db"
            with sqlite3.connect(db) as conn:
                conn.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
                conn.execute(f"PRAGMA user_version = {version}")
            before = db.read_bytes()
            for cmd in self.DB_COMMANDS:
                with self.subTest(version=version, cmd=cmd):
                    rc, out, err = self.c.run("--db", db, *cmd)
                    self.assertEqual(rc, EX_CONFIG, err)
                    self.assertIn(says, err)
                    self.assertIn(str(db), err)
                    self.assertEqual(out, "")
                    self.assertEqual(len(vtcsync.error_lines(err)), 1, err)
            self.assertEqual(db.read_bytes(), before)

    def test_read_commands_on_missing_db_create_nothing(self):
        absent = self.c.dir / "absent.db"
        for cmd in self.DB_COMMANDS:
            with self.subTest(cmd=cmd):
                rc, out, err = self.c.run("--db", absent, *cmd)
                self.assertEqual(rc, EX_NOINPUT, err)
                self.assertIn(str(absent), err)
                self.assertEqual(out, "")
                for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
                    self.assertFalse(os.path.exists(str(absent) + suffix),
                                     f"{absent}{suffix} was created")
        # The configured state.db too.
        rc, _, _ = self.c.run("status")
        self.assertEqual(rc, EX_NOINPUT)
        self.assertFalse(self.c.db_path.exists())

    def test_status_after_tick(self):
        rc, _, err = self.c.tick()
        self.assertEqual(rc, 0, err)
        rc, out, err = self.c.run("status")
        self.assertEqual(rc, 0, err)
        self.assertIn("cursor", out)
        self.assertIn("line 12", out)
        self.assertIn("5 pending", out)
        rc, out, err = self.c.run("status", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), 1, "one JSON document")
        s = json.loads(out)
        self.assertEqual(s["cursor"]["line"], 12)
        self.assertEqual(s["jobs"], {"pending": 5, "in_flight": 0, "failed": 0})
        self.assertIsNone(s["audit_failure"])
        self.assertFalse(s["running"])
        self.assertEqual(s["last_pass"]["exit_code"], 0)
        self.assertEqual(s["last_pass"]["entries"], 12)

    def test_queue_list_table_and_json(self):
        rc, _, err = self.c.tick()
        self.assertEqual(rc, 0, err)
        want = expected_live_ids()

        rc, out, err = self.c.run("queue", "list")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        for col in ("JOB", "KIND", "STATE"):
            self.assertIn(col, lines[0])
        self.assertEqual(len(lines), 1 + len(want), out)
        for event_id in want.values():
            self.assertIn(event_id, out)

        rc, out, err = self.c.run("queue", "list", "--json")
        self.assertEqual(rc, 0, err)
        docs = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(sorted(d["id"] for d in docs), sorted(want.values()))
        self.assertTrue(out.endswith("\n"))
        by_id = {d["id"]: d for d in docs}
        expected = vtcsync.load_json("basic.expected.json")
        for job in expected["jobs"]:
            d = by_id[want[job["member"]]]
            self.assertEqual(d["kind"], job["kind"])
            self.assertEqual(d["event_line"], job["event_line"])
            self.assertEqual(d["state"], "pending")
            self.assertEqual(d["rtbf"], bool(job.get("rtbf", False)))
            # Never a plaintext DID in the output.
            self.assertNotIn("did:", json.dumps(d))

        rc, out, err = self.c.run("queue", "list", "--json", "--limit", "2")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), 2)
        rc, out, err = self.c.run("queue", "list", "--json", "--state", "failed")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "")

    def test_unshared_url_cases_really_isolated(self):
        """The two refused URLs fail on config, not on a network error."""
        wrapper = unshare_wrapper()
        if not wrapper:
            self.skipTest("unshare -n is not available here")
        for url in ("http://example.org/", "http://localhost:80@evil.example",
                    "https://localhost:80@evil.example/"):
            with self.subTest(url=url):
                self.c.write_config(registry={"url": url})
                rc, _, err = self.c.tick(wrapper=wrapper)
                self.assertEqual(rc, EX_CONFIG, err)
                self.assertIn("registry.url", err)
                self.assertFalse(self.c.db_path.exists(),
                                 "a refused config must not create the db")

    def test_loopback_urls_accepted(self):
        for url in ("http://127.0.0.1:9/", "http://localhost:9/",
                    "http://[::1]:9/", "http://127.1.2.3:9/"):
            with self.subTest(url=url):
                c = Community(registry_url=url)
                self.addCleanup(c.cleanup)
                rc, _, err = c.tick()
                self.assertEqual(rc, 0, err)

    def test_db_bound_to_another_community(self):
        rc, _, err = self.c.tick()
        self.assertEqual(rc, 0, err)
        before = vtcsync.file_state(self.c.db_path)
        counts = self.c.db.counts()
        self.c.write_config(vtc={"did": "did:web:other.example"})
        for cmd in (["tick"], ["status"], ["queue", "list"]):
            with self.subTest(cmd=cmd):
                rc, out, err = self.c.run(*cmd)
                self.assertEqual(rc, EX_CONFIG, err)
                self.assertIn("vtc.did", err)
                self.assertEqual(out, "")
        self.assertEqual(self.c.db.counts(), counts)
        self.assertEqual(vtcsync.file_state(self.c.db_path)[""][0], before[""][0])

    def test_db_bound_to_another_registry(self):
        rc, _, err = self.c.tick()
        self.assertEqual(rc, 0, err)
        self.c.write_config(registry={"url": "http://127.0.0.1:10/"})
        rc, _, err = self.c.tick()
        self.assertEqual(rc, EX_CONFIG, err)
        self.assertIn("registry.url", err)

    def test_db_option_overrides_config(self):
        other = self.c.dir / "other.db"
        rc, _, err = self.c.run("--db", other, "tick")
        self.assertEqual(rc, 0, err)
        self.assertTrue(other.exists())
        self.assertFalse(self.c.db_path.exists())
        rc, out, err = self.c.run("--db", other, "status", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["cursor"]["line"], 12)

    def test_env_overrides_config(self):
        other = self.c.dir / "env.db"
        rc, _, err = self.c.tick(env={"VTC_SYNC_STATE_DB": str(other)})
        self.assertEqual(rc, 0, err)
        self.assertTrue(other.exists())
        self.assertFalse(self.c.db_path.exists())

    def test_config_from_environment_variable(self):
        rc, _, err = vtcsync.run("tick", env={"VTC_SYNC_CONFIG":
                                              str(self.c.config_path)})
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.c.db_path.exists())

    def test_json_log_format(self):
        rc, _, err = self.c.run("--log-format", "json", "tick")
        self.assertEqual(rc, 0, err)
        for line in err.splitlines():
            doc = json.loads(line)
            for k in ("ts", "level", "msg"):
                self.assertIn(k, doc)
        self.c.audit.unlink()
        rc, _, err = self.c.run("--log-format", "json", "tick")
        self.assertEqual(rc, EX_IOERR)
        docs = [json.loads(line) for line in err.splitlines()]
        self.assertEqual(sum(1 for d in docs if d["level"] == "error"), 1, err)

    def test_no_plaintext_did_in_logs(self):
        for args in (["-v", "tick"], ["status"], ["queue", "list"]):
            rc, out, err = self.c.run(*args)
            self.assertEqual(rc, 0, err)
            for did in ("did:key:z6MkAlice", "did:key:z6MkCarol",
                        "did:web:dave.example"):
                self.assertNotIn(did, err)
                self.assertNotIn(did, out)


class ColourTest(unittest.TestCase):
    """Log levels are coloured only on a terminal, and never with NO_COLOR."""

    def stderr_on_a_terminal(self, extra):
        import pty
        env = vtcsync.clean_env()
        env.pop("NO_COLOR", None)
        env.update(extra)
        main, sub = pty.openpty()
        try:
            p = subprocess.run([vtcsync.binary(), "-c", "/nonexistent/vtc-sync.toml",
                                "status"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=sub,
                               env=env, timeout=30)
            os.close(sub)
            sub = None
            data = b""
            while True:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # EIO: the terminal's other side closed
                    break
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(main)
            if sub is not None:
                os.close(sub)
        self.assertEqual(p.returncode, EX_CONFIG)
        return data.decode()

    def test_colour_on_a_terminal_only(self):
        red_error = "vtc-sync: \x1b[1;31merror\x1b[0m: "
        self.assertIn(red_error, self.stderr_on_a_terminal({}))
        self.assertIn(red_error, self.stderr_on_a_terminal({"NO_COLOR": ""}))
        plain = self.stderr_on_a_terminal({"NO_COLOR": "1"})
        self.assertIn("vtc-sync: error: ", plain)
        self.assertNotIn("\x1b", plain)
        code, _, err = vtcsync.run("-c", "/nonexistent/vtc-sync.toml", "status")
        self.assertEqual(code, EX_CONFIG)
        self.assertNotIn("\x1b", err)  # a pipe, not a terminal


if __name__ == "__main__":
    unittest.main()
