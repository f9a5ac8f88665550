"""Running vtc-sync and the scripts around it in end-to-end tests (standard
library only): the binary, its environment and exit codes, the wall clock
through libfaketime, the public vectors and audit logs, waiting.

Environment:
  VTC_SYNC        the vtc-sync binary (required)
  VTC_GEN_AUDIT   scripts/gen-audit (default: the repository's)
  VTC_TEST_DATA   the public vectors (default: the repository's tests/data)
"""

import hashlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
ERROR_PREFIX = "vtc-sync: error: "
DEFAULT_TIMEOUT = 120

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


def error_lines(stderr):
    """stderr lines that are not info/warning/debug log lines."""
    keep = []
    for line in stderr.splitlines():
        if line.startswith(("vtc-sync: info: ", "vtc-sync: warning: ",
                            "vtc-sync: debug: ")):
            continue
        keep.append(line)
    return keep
