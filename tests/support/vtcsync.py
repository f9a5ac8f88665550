"""Helpers for vtc-sync's end-to-end tests (standard library only).

Environment:
  VTC_SYNC        the vtc-sync binary (required)
  VTC_GEN_AUDIT   scripts/gen-audit (default: the repository's)
  VTC_TEST_DATA   the public vectors (default: the repository's tests/data)
"""

import base64
import fcntl
import hashlib
import http.server
import json
import os
import pathlib
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

REPO = pathlib.Path(__file__).resolve().parents[2]
COMMUNITY_DID = "did:webvh:QmCommunity:community.example"
LOOPBACK_REGISTRY = "http://127.0.0.1:9/"
ERROR_PREFIX = "vtc-sync: error: "
DEFAULT_TIMEOUT = 120

# Dispatch against the unreachable LOOPBACK_REGISTRY, made deterministic and
# cheap: one request at a time, a few jobs per pass. Tests of the walk look
# only at what the walk produces (walk_state); attempts and health are
# dispatch's business.
DISPATCH_DEFAULTS = {"registry": {"concurrency": 1},
                     "sync": {"max_jobs_per_pass": 3}}

# Outcome kinds the walk writes; the others come from dispatch.
WALK_OUTCOMES = ("superseded", "skipped", "policy_override", "invalid_event",
                 "unattributable", "entry_skipped")

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_IOERR = 74
EX_TEMPFAIL = 75
EX_CONFIG = 78


def binary():
    path = os.environ.get("VTC_SYNC")
    if not path:
        sys.stderr.write("VTC_SYNC is not set: point it at the vtc-sync binary "
                         "(e.g. VTC_SYNC=/work/build-e2e/src/vtc-sync)\n")
        raise SystemExit(2)
    if not os.access(path, os.X_OK):
        sys.stderr.write(f"VTC_SYNC={path} is not an executable file\n")
        raise SystemExit(2)
    return path


def gen_audit_path():
    return os.environ.get("VTC_GEN_AUDIT") or str(REPO / "scripts" / "gen-audit")


def data_dir():
    return pathlib.Path(os.environ.get("VTC_TEST_DATA") or REPO / "tests" / "data")


def data_file(name):
    return data_dir() / name


def load_json(name):
    with open(data_file(name), encoding="utf-8") as f:
        return json.load(f)


def clean_env(env=None):
    """The caller's environment without any VTC_SYNC* variable, plus env."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("VTC_SYNC")}
    out.setdefault("LC_ALL", "C.UTF-8")
    if env:
        out.update(env)
    return out


LIBFAKETIME = next(
    (p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/faketime/libfaketime.so.1") if os.path.exists(p)),
    "libfaketime.so.1")


def faketime_env(when, env=None):
    """env that starts the wall clock at `when` ("@YYYY-MM-DD HH:MM:SS") by
    preloading libfaketime; the monotonic clock stays real."""
    out = dict(env or {})
    out.update(LD_PRELOAD=LIBFAKETIME, FAKETIME=when,
               FAKETIME_DONT_FAKE_MONOTONIC="1")
    return out


def sigkill(p):
    """SIGKILL a started process (a Popen) and reap it. libfaketime, when
    preloaded, names a shared-memory segment and a semaphore after the pid
    and removes them only at a normal exit: left behind, they would make a
    later process that gets the same pid fail to start."""
    p.send_signal(signal.SIGKILL)
    p.wait()
    for name in (f"faketime_shm_{p.pid}", f"sem.faketime_sem_{p.pid}"):
        try:
            os.unlink(f"/dev/shm/{name}")
        except FileNotFoundError:
            pass


def _unwrap_faketime(wrapper, env):
    # The faketime wrapper program makes a named semaphore per run, and runs
    # in parallel then fail with "sem_open: File exists": preload instead.
    if wrapper and wrapper[0] == "faketime":
        when = wrapper[-1]
        return tuple(), faketime_env(when, env)
    return wrapper, env


def run(*args, env=None, timeout=DEFAULT_TIMEOUT, wrapper=()):
    """Run vtc-sync; returns (exit code, stdout, stderr) as text. A
    ("faketime", "-f", WHEN) wrapper sets the wall clock to WHEN."""
    wrapper, env = _unwrap_faketime(tuple(wrapper), env)
    cmd = [*wrapper, binary(), *map(str, args)]
    p = subprocess.run(cmd, env=clean_env(env), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def start(*args, env=None, **kw):
    """Start vtc-sync in the background (Popen, pipes for stdout/stderr)."""
    return subprocess.Popen([binary(), *map(str, args)], env=clean_env(env),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


# Runs argv in a child of a fresh, small interpreter and writes its peak
# RSS to a file: a process's peak RSS counts the memory of the process it
# was forked from until exec, and a test's own interpreter may be large.
_PEAK_RSS = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss(argv, env=None, timeout=DEFAULT_TIMEOUT):
    """Runs argv; returns (exit code, stdout, stderr, peak RSS in bytes)."""
    with tempfile.TemporaryDirectory(prefix="vtc-rss-") as tmp:
        out = os.path.join(tmp, "rss")
        p = subprocess.run([sys.executable, "-S", "-c", _PEAK_RSS, out, *map(str, argv)],
                           env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        with open(out) as f:
            rss = int(f.read())
    return p.returncode, p.stdout, p.stderr, rss


def gen_audit(*args, timeout=DEFAULT_TIMEOUT):
    p = subprocess.run([sys.executable, gen_audit_path(), *map(str, args)],
                       capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"gen-audit {' '.join(map(str, args))} failed "
                             f"({p.returncode}): {p.stderr.decode()}")
    return p.stdout


def log_lines(path):
    """The complete (LF-ended) lines of an audit log, as bytes without LF."""
    data = pathlib.Path(path).read_bytes()
    lines = data.split(b"\n")
    return lines[:-1]


def event_ids(path):
    """{line number (1-based): event_id} of an audit log."""
    return {i: json.loads(l)["event_id"] for i, l in enumerate(log_lines(path), 1)}


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


def file_state(path):
    """Bytes digest and mtime of a file and its -wal/-shm companions."""
    state = {}
    for suffix in ("", "-wal", "-shm"):
        p = str(path) + suffix
        try:
            st = os.stat(p)
        except FileNotFoundError:
            state[suffix] = None
            continue
        with open(p, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        state[suffix] = (digest, st.st_size, st.st_mtime_ns)
    return state


def poll(predicate, timeout, interval=0.01, what="condition"):
    """Call predicate until it returns a truthy value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


STATE_VIEWS = pathlib.Path(__file__).resolve().parent / "state_views.sql"


def job_id_text(b):
    """A stored job id as text (src/store/codec.cpp)."""
    if not b:
        return ""
    if len(b) == 17 and b[0] in (1, 2):
        return ("reconcile:", "retire:")[b[0] - 1] + bytes(b[1:]).hex()
    return str(uuid.UUID(bytes=bytes(b))) if len(b) == 16 else ""


def uuid_text(b):
    return str(uuid.UUID(bytes=bytes(b))) if b and len(b) == 16 else ""


def hash_text(b):
    return base64.urlsafe_b64encode(bytes(b)).rstrip(b"=").decode() if b else ""


# Each tally next to a full count of what it counts.
TALLY_CHECK = """
SELECT t.name, t.n, CASE
  WHEN t.name LIKE 'jobs.%' THEN
    (SELECT count(*) FROM jobs WHERE state = substr(t.name, 6))
  WHEN t.name LIKE 'members.%' THEN
    (SELECT count(*) FROM members WHERE status = substr(t.name, 9))
  WHEN t.name = 'outcomes.unattributable_removal' THEN
    (SELECT count(*) FROM outcomes WHERE kind = 'unattributable'
     AND detail->>'reason' = 'removal')
  ELSE (SELECT count(*) FROM outcomes WHERE kind = substr(t.name, 10))
END FROM tallies t ORDER BY t.name
"""


class Db:
    """Read-only view of a state database."""

    def __init__(self, path):
        self.path = str(path)

    def connect(self):
        """A read-only connection that reads ids and hashes as text
        (tests/support/state_views.sql)."""
        uri = pathlib.Path(self.path).resolve().as_uri() + "?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=5)
        con.row_factory = sqlite3.Row
        con.create_function("job_id_text", 1, job_id_text, deterministic=True)
        con.create_function("uuid_text", 1, uuid_text, deterministic=True)
        con.create_function("hash_text", 1, hash_text, deterministic=True)
        if con.execute("PRAGMA user_version").fetchone()[0] >= 1:
            con.executescript(STATE_VIEWS.read_text())
        return con

    def query(self, sql, params=()):
        con = self.connect()
        try:
            return [dict(r) for r in con.execute(sql, params)]
        finally:
            con.close()

    def scalar(self, sql, params=()):
        con = self.connect()
        try:
            row = con.execute(sql, params).fetchone()
            return None if row is None else row[0]
        finally:
            con.close()

    def meta(self, key):
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        if value is None:
            return None
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return value

    def cursor(self):
        return self.meta("cursor")

    def cursor_line(self):
        c = self.cursor()
        return c["line"] if c else 0

    def jobs(self):
        """Live jobs: id, kind, state, attempts, rtbf, event_line, member (DID)."""
        return self.query(
            "SELECT j.id, j.kind, j.state, j.attempts, j.rtbf, j.event_line, "
            "j.key_id, j.target_hash, m.did AS member "
            "FROM jobs j JOIN members m ON m.id = j.member_id ORDER BY j.id")

    def members(self):
        return self.query("SELECT did, status, role, active_from, active_to "
                          "FROM members ORDER BY did")

    def outcomes(self):
        return self.query("SELECT seq, at, kind, job_id, attempts, key_id, "
                          "target_hash, detail FROM outcomes ORDER BY seq")

    def counts(self):
        return {t: self.scalar(f"SELECT count(*) FROM {t}")
                for t in ("jobs", "members", "outcomes", "meta")}

    def integrity(self):
        return self.scalar("PRAGMA integrity_check")

    def tally_errors(self):
        """The counts the store keeps (the tallies table) that differ from a
        full count: [(name, kept, counted)]; [] for a database that cannot
        be read or has no tallies (the bad-input tests make such files).
        Reads a copy of the files, so as to change nothing a test looks at
        (even a reader writes to the -shm file, and creates it)."""
        if not os.path.exists(self.path):
            return []
        with tempfile.TemporaryDirectory(prefix="vtc-tally-") as tmp:
            copy = os.path.join(tmp, "state.db")
            for suffix in ("", "-wal"):
                if os.path.exists(self.path + suffix):
                    shutil.copyfile(self.path + suffix, copy + suffix)
            try:
                con = sqlite3.connect(copy, timeout=5)
                try:
                    rows = con.execute(TALLY_CHECK).fetchall()
                finally:
                    con.close()
            except sqlite3.Error:
                return []
        return [r for r in rows if r[1] != r[2]]


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


def comparable_jobs(db):
    return [(j["id"], j["kind"], j["member"], j["state"], j["attempts"])
            for j in db.jobs()]


def _stable_detail(detail):
    # Transport errors quote elapsed times ("after 0 ms"): not comparable.
    return re.sub(r"\b\d+ (ms|milliseconds|seconds|s)\b", "N \\1", detail)


def comparable_outcomes(db, walk_only=False):
    """(kind, job_id, detail) in sequence order, without seq and time."""
    return [(o["kind"], o["job_id"], _stable_detail(o["detail"]))
            for o in db.outcomes()
            if not walk_only or o["kind"] in WALK_OUTCOMES]


def walk_state(db):
    """What the walk produced, independent of dispatch: jobs (id, kind,
    member, event line, rtbf), member rows and the walk's outcomes."""
    return {
        "jobs": [(j["id"], j["kind"], j["member"], j["event_line"],
                  bool(j["rtbf"])) for j in db.jobs()],
        "members": [tuple(m.values()) for m in db.members()],
        "outcomes": comparable_outcomes(db, walk_only=True),
    }


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


def error_lines(stderr):
    """stderr lines that are not info/warning/debug log lines."""
    keep = []
    for line in stderr.splitlines():
        if line.startswith(("vtc-sync: info: ", "vtc-sync: warning: ",
                            "vtc-sync: debug: ")):
            continue
        keep.append(line)
    return keep


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


# An Idempotency-Key (vtc-sync(1), DESCRIPTION): <job id>[/r<n>]/<digest>.
# The job id is a UUID, reconcile:<32 hex> or retire:<32 hex> (never a '/');
# /r<n> follows the n-th `queue retry` (n >= 1); the digest is 16 lowercase
# hex digits over the job's nonce and the request, so one key per request.
KEY_RE = re.compile(
    r"(?P<job>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?:reconcile|retire):[0-9a-f]{32})"
    r"(?:/r(?P<round>[1-9][0-9]*))?"
    r"/(?P<digest>[0-9a-f]{16})")


def key_parts(key):
    """(job id, round, digest) of an Idempotency-Key; AssertionError unless
    the key has exactly the form KEY_RE describes."""
    m = KEY_RE.fullmatch(key or "")
    if not m:
        raise AssertionError(f"not an Idempotency-Key <job id>[/r<n>]/<16 hex>: "
                             f"{key!r}")
    return m["job"], int(m["round"] or 0), m["digest"]


def key_job(key):
    """The job id an Idempotency-Key was sent for (everything before its
    first '/': job ids never contain one)."""
    return key.split("/", 1)[0]


def key_round(key):
    """n of the key's /r<n> (the n-th `queue retry`), or 0."""
    parts = key.split("/")
    if len(parts) == 3 and re.fullmatch(r"r[1-9][0-9]*", parts[1]):
        return int(parts[1][1:])
    return 0


def assert_key(key, job_id=None, round=None):
    """Assert that `key` is a well-formed Idempotency-Key and, when given,
    that it was sent for job `job_id` in round `round` (0: before any
    `queue retry`). Returns the key."""
    job, n, _ = key_parts(key)
    if job != key_job(key) or n != key_round(key):
        raise AssertionError(f"key_job/key_round disagree with {key!r}")
    if job_id is not None and job != job_id:
        raise AssertionError(f"Idempotency-Key {key!r} is not job {job_id}'s")
    if round is not None and n != round:
        raise AssertionError(f"Idempotency-Key {key!r} is not of round {round}")
    return key


class KeysOfJobs:
    """The Idempotency-Keys of a set of jobs: `key in KeysOfJobs(ids)` is true
    when key_job(key) is one of `ids`. For checks written against job ids
    (e.g. the jobs a kill left in flight, whose requests may repeat)."""

    def __init__(self, job_ids=()):
        self.job_ids = set(job_ids)

    def __contains__(self, key):
        return bool(key) and key_job(key) in self.job_ids

    def __ior__(self, job_ids):
        self.job_ids |= set(job_ids)
        return self

    def __len__(self):
        return len(self.job_ids)

    def __repr__(self):
        return f"KeysOfJobs({sorted(self.job_ids)!r})"
