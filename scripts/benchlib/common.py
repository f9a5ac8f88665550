"""What every case of scripts/bench shares: sizes, the build, a community
directory (config, log, keys, database), running and timing commands with
the commands compared taking turns, and the table."""

import os
import pathlib
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "tests" / "support"))  # the project's test servers
from vtcsync import peak_rss  # noqa: E402

COMMUNITY_DID = "did:webvh:QmCommunity:community.example"
ADMIN_DID = "did:key:z6MkBenchAdmin"
UNREACHABLE = "http://127.0.0.1:9/"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
NS = 10**9
SIZES = {
    False: dict(idle_jobs=1_000_000, walk_entries=1_000_000, walk_members=100_000,
                joins_walk_entries=200_000, breaker_jobs=100_000, failed_jobs=10_000,
                outcomes=1_000_000, dry_run_entries=100,
                dispatch_jobs=10_000, serial_jobs=1_000, runs=5, hyper_runs=200,
                vtc_idle_entries=1_000, vtc_walk_entries=100_000),
    True: dict(idle_jobs=50_000, walk_entries=100_000, walk_members=10_000,
               joins_walk_entries=20_000, breaker_jobs=10_000, failed_jobs=5_000,
               outcomes=50_000, dry_run_entries=100,
               dispatch_jobs=2_000, serial_jobs=200, runs=3, hyper_runs=50,
               vtc_idle_entries=1_000, vtc_walk_entries=20_000),
}


def note(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def fail(msg):
    raise SystemExit(f"bench: error: {msg}")


def build(build_dir):
    if not (build_dir / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(build_dir), str(REPO),
                        "--buildtype=release", "-Dtests=false"],
                       check=True, stdout=sys.stderr)
    subprocess.run(["ninja", "-C", str(build_dir), "src/vtc-sync"], check=True,
                   stdout=sys.stderr)
    return build_dir / "src" / "vtc-sync"


def need(tool, package):
    if shutil.which(tool) is None:
        fail(f"{tool} not found (scripts/setup --tests installs {package})")


def member_did(i):
    """The i-th bench member's did:key (a fixed-width base58 number)."""
    tag = ""
    for _ in range(6):
        i, r = divmod(i, 58)
        tag += BASE58[r]
    return f"did:key:z6Mk{tag}bench"


def joined(i):
    """A script line: the admin adds member i."""
    return ('{"type":"MemberAdded","data":{"role":"member"},'
            f'"actor":"{ADMIN_DID}","target":"{member_did(i)}"}}\n')


def db_files(path):
    return [pathlib.Path(f"{path}{s}") for s in ("", "-wal", "-shm", ".lock")]


def remove_db(path):
    for f in db_files(path):
        f.unlink(missing_ok=True)


def copy_db(src, dst, sync=False):
    """Copies a database (and its -wal) to `dst`, replacing what was there.
    With `sync`, the copy is on disk when this returns: a timed command that
    fsyncs the database then waits for its own writes only."""
    remove_db(dst)
    for suffix in ("", "-wal"):
        if not os.path.exists(f"{src}{suffix}"):
            continue
        shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")
        if sync:
            fd = os.open(f"{dst}{suffix}", os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)


def db_bytes(path):
    return sum(os.path.getsize(f"{path}{s}") for s in ("", "-wal")
               if os.path.exists(f"{path}{s}"))


def checkpoint(path):
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def config_text(db, source, keys, registry_url, extra=""):
    return (f'[vtc]\ndid = "{COMMUNITY_DID}"\n'
            f'[state]\ndb = "{db}"\n'
            f'[audit]\nsource = "{source}"\nkey_file = "{keys}"\n'
            f'[registry]\nurl = "{registry_url}"\n{extra}')


class Community:
    """A directory with a config, an audit log, a key file and a database."""

    def __init__(self, root, name, binary, registry_url, extra=""):
        self.dir = root / name
        self.dir.mkdir()
        self.binary = binary
        self.registry_url = registry_url
        self.log = self.dir / "audit.jsonl"
        self.keys = self.dir / "keys.json"
        self.db = self.dir / "state.db"
        self.config = self.dir / "vtc-sync.toml"
        self.write_config(registry_url, extra)

    def write_config(self, registry_url, extra=""):
        self.config.write_text(config_text(self.db, self.log, self.keys, registry_url, extra))

    def variant(self, name, extra="", db=None, log=None):
        """Another config file beside the first: `extra` appended, another
        database or log if given."""
        path = self.dir / name
        path.write_text(config_text(db or self.db, log or self.log, self.keys,
                                    self.registry_url, extra))
        return path

    def use_vtc(self, vtc, identity, registry_url=UNREACHABLE, extra=""):
        """audit.source the VTC at `vtc` (a vtc.Vtc), logging in as `identity`."""
        self.config.write_text(
            f'[vtc]\ndid = "{COMMUNITY_DID}"\n'
            f'[state]\ndb = "{self.db}"\n'
            f'[audit]\nsource = "{vtc.url}"\nidentity_file = "{identity}"\n'
            f'key_file = "{self.keys}"\n'
            f'[registry]\nurl = "{registry_url}"\n{extra}')

    def share_log(self, other):
        """Copies the log and the key file (a secret file) of `other`."""
        shutil.copyfile(other.log, self.log)
        shutil.copyfile(other.keys, self.keys)
        os.chmod(self.keys, 0o600)

    def fresh_db(self):
        remove_db(self.db)

    def gen(self, *args):
        subprocess.run([sys.executable, str(REPO / "scripts" / "gen-audit"),
                        "--keys", str(self.keys), "-o", str(self.log), *map(str, args)],
                       check=True)

    def gen_script(self, lines, seed, append=False):
        """Writes the log (or appends to it) from script lines (an iterable)."""
        script = self.dir / "script.jsonl"
        with open(script, "w") as f:
            f.writelines(lines)
        self.gen("--script", script, "--seed", seed, *(["--append"] if append else []))
        script.unlink()

    def gen_joins(self, count, seed, start=0, append=False):
        """A log of `count` MemberAdded entries, one per new member (members
        start, start + 1, ...)."""
        self.gen_script((joined(i) for i in range(start, start + count)), seed, append)

    def argv(self, *args, config=None):
        return [str(self.binary), "-c", str(config or self.config), *map(str, args)]

    def run(self, *args, env=None, check=True, config=None):
        """Runs vtc-sync; returns (exit code, stderr, seconds, peak RSS in
        KiB). The RSS is measured as tests/support/vtcsync.py's peak_rss
        does, from a small interpreter: a child's peak counts the memory of
        the process it was spawned from, this one's included."""
        start = time.monotonic()
        code, _, err, rss = peak_rss(self.argv(*args, config=config),
                                     env={**os.environ, **(env or {})}, timeout=None)
        seconds = time.monotonic() - start
        err = err.decode(errors="replace")
        if check and code not in (0, 76):
            fail(f"vtc-sync {' '.join(map(str, args))} exited {code}: {err.strip()}")
        return code, err, seconds, rss // 1024

    def cursor_line(self, db=None):
        con = sqlite3.connect(db or self.db)
        line = con.execute("SELECT value->>'line' FROM meta WHERE key = 'cursor'").fetchone()
        con.close()
        return line[0] if line else None


def spawn(argv):
    """Runs argv (output discarded); (wall seconds, exit code). Peak RSS is
    measured by Community.run: one taken here would count this process."""
    devnull = os.open(os.devnull, os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    os.close(devnull)
    return elapsed, os.waitstatus_to_exitcode(status)


def spawn_timed(argv):
    """Wall seconds of one run of argv (output discarded); fails unless it exits 0."""
    elapsed, code = spawn(argv)
    if code != 0:
        fail(f"{' '.join(map(str, argv))} failed")
    return elapsed


def take_turns(commands, runs, warmup=10, ok=(0,), after=None, max_seconds=None):
    """Runs the commands in turn, run after run, so a change in the
    machine's load (other builds share it) weighs on all of them alike. A
    command is an argv list, or a function of the run number that prepares
    the run (outside the timing) and returns its argv; after(i, run), if
    given, checks what the run of command i did. Exit codes other than `ok`
    fail the bench. With `max_seconds`, no new round starts once that long
    has passed since the first (at least one round is measured). Returns,
    per command, the wall seconds of each run after the warm-up runs."""
    times = [[] for _ in commands]
    began = time.monotonic()
    for run in range(warmup + runs):
        if max_seconds and run > warmup and time.monotonic() - began > max_seconds:
            break
        for i, command in enumerate(commands):
            argv = command(run) if callable(command) else command
            elapsed, code = spawn(argv)
            if code not in ok:
                fail(f"{' '.join(map(str, argv))} exited {code}")
            if after:
                after(i, run)
            if run >= warmup:
                times[i].append(elapsed)
    return times


FAST_BUDGET = 600  # seconds: no new round of fast commands starts after it


def interleaved(commands, runs, warmup=10, ok=(0,), max_seconds=FAST_BUDGET):
    """Median wall seconds of each command, the commands taking turns
    (take_turns), and the number of runs measured (fewer than `runs` when
    `max_seconds` ran out)."""
    times = take_turns(commands, runs, warmup, ok, max_seconds=max_seconds)
    return [statistics.median(t) for t in times], len(times[0])


def counted(name, measured, runs):
    """A row's name, saying so when fewer runs than asked were measured."""
    if measured >= runs:
        return name
    return f"{name} ({measured} run{'s' if measured > 1 else ''})"


def due_query(now_ns):
    # What a pass asks the database first (store/dispatch_store.cpp, scope all).
    return ("SELECT 1 FROM jobs j JOIN members m ON m.id = j.member_id "
            f"WHERE j.state = 'pending' AND j.due <= {now_ns} ORDER BY j.due, j.rowid LIMIT 1")


def back_off_all(db_path, now_ns):
    """Every pending job as one 503 answer leaves it (store/dispatch_store.cpp)."""
    con = sqlite3.connect(db_path)
    with con:
        con.execute("INSERT INTO attempts(job_id, n, started, finished, method, "
                    "retry, http_status, class, error) SELECT id, 1, ?, ?, "
                    "'PUT', 0, 503, 'transient', 'HTTP 503' FROM jobs WHERE true "
                    "ON CONFLICT DO NOTHING", (now_ns, now_ns))
        con.execute("INSERT INTO mirror(member_id, state, updated) SELECT member_id, "
                    "'unknown', ? FROM jobs WHERE true ON CONFLICT(member_id) DO NOTHING",
                    (now_ns,))
        con.execute("UPDATE jobs SET attempts = 1, due = ?, last_error = 'HTTP 503'",
                    (now_ns + 86400 * NS,))
        con.execute("INSERT INTO counters(name, value) VALUES ('requests.transient', "
                    "(SELECT count(*) FROM jobs)) ON CONFLICT(name) DO UPDATE SET "
                    "value = excluded.value")
        con.execute("DELETE FROM meta WHERE key IN ('health', 'setting.pause_until')")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def jobs_community(root, name, binary, count, seed):
    """A community whose `count` jobs (one per member) wait as one 503
    answer leaves them (see the module docstring of scripts/bench); its
    .jobs is the number of jobs."""
    c = Community(root, name, binary, UNREACHABLE)
    note(f"{name}: generating {count:,} joins")
    c.gen_joins(count, seed)
    note(f"{name}: walking them (registry unreachable)")
    c.run("tick", "-q", "--max-seconds", 3600)
    back_off_all(c.db, time.time_ns())
    con = sqlite3.connect(c.db)
    c.jobs = con.execute("SELECT count(*) FROM jobs").fetchone()[0]
    con.close()
    if c.jobs != count:
        fail(f"{name}: the walk made {c.jobs} jobs of {count}")
    return c


def ms(seconds):
    return f"{seconds * 1e3:.2f} ms"


def row(name, ours, ref, ratio, goal, met, aim=False):
    """A table row; an aim's row (aim=True) does not decide the exit status."""
    return (name, ours, ref, ratio, goal, met, aim)


def ratio_row(name, ours, ref, limit, ref_name, fmt=ms):
    """A row for `ours` <= `limit` x `ref` (seconds)."""
    return row(name, fmt(ours), fmt(ref), ours / ref, f"<= {limit:g}x {ref_name}",
               ours / ref <= limit)


def met_text(met, aim):
    if aim:
        return "yes" if met else "not yet"
    return "yes" if met else "NO"


def print_table(results, args, size):
    header = ("case", "vtc-sync", "reference", "ratio", "goal", "met")
    rows = [header] + [(name, ours, ref, "" if ratio is None else f"{ratio:.2f}", goal,
                        met_text(met, aim))
                       for name, ours, ref, ratio, goal, met, aim in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    print(f"scripts/bench --seed {args.seed}{' --quick' if args.quick else ''}"
          f" ({os.cpu_count()} cores, medians of {size['runs']} runs,"
          f" {size['hyper_runs']} for the fast commands)")
    for i, r in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def all_met(results):
    return all(r[5] for r in results if not r[6])
