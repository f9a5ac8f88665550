"""Temporary communities for vtc-sync's end-to-end tests (standard library
only): a config, an audit log, keys and a state database in a temporary
directory, vtc-sync run on them, and registries for them to write to."""

import fcntl
import http.server
import json
import os
import pathlib
import shutil
import tempfile
import threading
import unittest

from state_db import Db
from vtcsync_run import DEFAULT_TIMEOUT, data_file, gen_audit, log_lines, run, start

COMMUNITY_DID = "did:webvh:QmCommunity:community.example"
LOOPBACK_REGISTRY = "http://127.0.0.1:9/"

# Dispatch against the unreachable LOOPBACK_REGISTRY, made deterministic and
# cheap: one request at a time, a few jobs per pass. Tests of the walk look
# only at what the walk produces (walk_state); attempts and health are
# dispatch's business.
DISPATCH_DEFAULTS = {"registry": {"concurrency": 1},
                     "sync": {"max_jobs_per_pass": 3}}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    s = s.replace("\n", "\\n").replace("\t", "\\t")
    return f'"{s}"'


def to_toml(sections):
    out = []
    for section, keys in sections.items():
        out.append(f"[{section}]")
        for k, v in keys.items():
            if v is not None:
                out.append(f"{k} = {toml_value(v)}")
        out.append("")
    return "\n".join(out)


class Community:
    """A temporary community: config, audit log, keys and a state database.

    log:  a vector name in tests/data (copied), a path, or None (no log yet)
    keys: True = basic.keys.json (chmod 600), a path to copy, or None
    """

    def __init__(self, log="basic.audit.jsonl", keys=True, did=COMMUNITY_DID,
                 registry_url=LOOPBACK_REGISTRY, extra=None, prefix="vtc-e2e-"):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
        self.audit = self.dir / "audit.jsonl"
        self.db_path = self.dir / "state.db"
        self.key_path = self.dir / "keys.json" if keys else None
        self.config_path = self.dir / "vtc-sync.toml"
        self.did = did
        self.registry_url = registry_url
        self.extra = {}
        for layer in (DISPATCH_DEFAULTS, extra or {}):
            for section, values in layer.items():
                self.extra.setdefault(section, {}).update(values)
        try:
            if log is not None:
                self.copy_log(log)
            if keys:
                src = data_file("basic.keys.json") if keys is True else keys
                shutil.copyfile(src, self.key_path)
                os.chmod(self.key_path, 0o600)
            self.write_config()
        except BaseException:
            self.cleanup()
            raise

    # -- files ---------------------------------------------------------
    def copy_log(self, log, dest=None):
        src = pathlib.Path(log)
        if not src.is_absolute() and not src.exists():
            src = data_file(log)
        dest = dest or self.audit
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o644)
        return dest

    def config_sections(self, **overrides):
        sections = {
            "vtc": {"did": self.did},
            "state": {"db": str(self.db_path)},
            "audit": {"source": str(self.audit)},
            "registry": {"url": self.registry_url},
        }
        if self.key_path:
            sections["audit"]["key_file"] = str(self.key_path)
        for src in (self.extra, overrides):
            for section, keys in src.items():
                sections.setdefault(section, {}).update(keys)
        return sections

    def write_config(self, path=None, text=None, **overrides):
        path = path or self.config_path
        if text is None:
            text = to_toml(self.config_sections(**overrides))
        pathlib.Path(path).write_text(text, encoding="utf-8")
        return path

    def gen_audit(self, *args, keys=None):
        return gen_audit(*args, "--keys", keys or self.key_path)

    def append_script(self, entries, seed=1, path=None):
        """Append scripted entries (dicts, see gen-audit --help) to the log."""
        script = self.dir / f"script-{seed}.jsonl"
        script.write_text("".join(json.dumps(e) + "\n" for e in entries))
        self.gen_audit("--script", script, "--append", "-o", path or self.audit,
                       "--seed", seed)

    def lines(self):
        return log_lines(self.audit)

    # -- running -------------------------------------------------------
    def args(self, *args):
        return ["-c", str(self.config_path), *args]

    def run(self, *args, env=None, timeout=DEFAULT_TIMEOUT, wrapper=()):
        """Runs vtc-sync on this community, then checks that the counts the
        store keeps equal a full count: after every command of every test."""
        result = run(*self.args(*args), env=env, timeout=timeout, wrapper=wrapper)
        # A pass another test started may be writing: a copy taken in the
        # middle of a checkpoint can be torn, a real difference stays.
        for _ in range(3):
            errors = self.db.tally_errors()
            if not errors:
                break
        if errors:
            raise AssertionError(f"vtc-sync {' '.join(map(str, args))}: kept counts "
                                 f"differ from a full count (name, kept, counted): "
                                 f"{errors}")
        return result

    def start(self, *args, env=None):
        return start(*self.args(*args), env=env)

    def tick(self, *args, **kw):
        return self.run(*args, "tick", **kw)

    def status_json(self):
        code, out, err = self.run("status", "--json")
        if code != 0:
            raise AssertionError(f"status --json exited {code}: {err}")
        return json.loads(out)

    # -- database ------------------------------------------------------
    @property
    def db(self):
        return Db(self.db_path)

    def lock(self):
        """Take the pass lock as a pass would; returns the open file (close it
        to release)."""
        f = open(str(self.db_path) + ".lock", "w")
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return f

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class VtcCommunity(Community):
    """A Community whose audit source is a test VTC (tests/support/vtc.py)
    on 127.0.0.1, serving self.audit as its log. vtc-sync logs in with a key
    of its own, made by `vtc-sync identity --generate` (self.identity,
    self.identity_did). Until start_vtc() (or use_vtc()) the config reads
    self.audit as a file. VTCs started here stop in cleanup()."""

    def __init__(self, log="basic.audit.jsonl", keys=True, **kw):
        self.vtc_url = None
        self.vtcs = []
        super().__init__(log=log, keys=keys, **kw)
        try:
            self.identity = self.dir / "id.pem"
            code, out, err = run("identity", "--generate", self.identity)
            if code != 0:
                raise AssertionError(f"identity --generate exited {code}: {err}")
            self.identity_did = out.strip()
        except BaseException:
            self.cleanup()
            raise

    def config_sections(self, **overrides):
        sections = super().config_sections(**overrides)
        audit = sections["audit"]
        if self.vtc_url and audit.get("source") == str(self.audit):
            audit["source"] = self.vtc_url
            audit.setdefault("identity_file", str(self.identity))
        return sections

    def use_vtc(self, url):
        """Point the config at the VTC at `url` (audit.source)."""
        self.vtc_url = url
        self.write_config()

    def start_vtc(self, acl=None, vtc_did=None, **kw):
        """Start a test VTC on self.audit (the Vtc fixture; `kw` go to it),
        whose ACL makes self.identity_did a super-admin unless `acl` says
        otherwise, and point the config at it."""
        from vtc import Vtc  # same folder; only these tests need it
        if acl is None:
            acl = {self.identity_did: "admin"}
        vtc = Vtc(self.audit, vtc_did or self.did, acl=acl, **kw)
        vtc.start()
        self.vtcs.append(vtc)
        self.use_vtc(vtc.url)
        return vtc

    def cleanup(self):
        for vtc in getattr(self, "vtcs", ()):
            vtc.__exit__(None, None, None)
        super().cleanup()


class OkRegistry:
    """A registry on 127.0.0.1 that accepts every write, for tests that need
    dispatch to finish its work. Use as a context manager; .url is the
    registry.url to configure."""

    def __init__(self):
        self.requests = []
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, doc=None):
                body = b"" if doc is None else json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                registry.requests.append((self.command, self.path, body))
                if self.command == "PUT":
                    try:
                        self.answer(200, json.loads(body or b"{}"))
                    except ValueError:
                        self.answer(400, {"error": "bad json"})
                elif self.command == "DELETE":
                    self.answer(204)
                elif "/records?" in self.path:
                    self.answer(200, {"records": [], "nextCursor": None})
                else:
                    self.answer(404, {"error": "absent"})

            do_GET = do_PUT = do_DELETE = do_POST = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class RegistryTestCase(unittest.TestCase):
    """A test with its own test registry on loopback (self.registry), and
    communities that use it, each removed after the test."""

    def setUp(self):
        from registry import Registry  # registry.py is in the same folder
        self.registry = Registry()
        self.registry.start()
        self.addCleanup(self.registry.__exit__, None, None, None)

    def community(self, log="basic.audit.jsonl", **extra):
        """A Community on self.registry; `extra` holds config sections."""
        c = Community(log=log, registry_url=self.registry.url, extra=extra)
        self.addCleanup(c.cleanup)
        return c
