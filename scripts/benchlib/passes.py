"""Passes that must not send: with the breaker open, in a 429 pause, with
the registry incompatible; and tick --dry-run against the real pass."""

import json
import sqlite3
import statistics
import subprocess
import time

from .common import (NS, UNREACHABLE, Community, checkpoint, copy_db, counted, due_query, fail,
                     interleaved, jobs_community, note, ratio_row, remove_db, row,
                     take_turns)
from .idle import idle_community

# What a pass that cannot send may exit with (vtc-sync(1), EXIT STATUS):
# 0 (left-over work is normal), 69 (unhealthy too long, or incompatible),
# 75 (another pass holds the lock).
NOT_SENDING_CODES = (0, 69, 75)
LIBRARIES = ("libcurl.so", "libcrypto.so")


def health(state, now):
    """The meta row `health` (store/dispatch_store.cpp, health_to_json) of a
    registry whose breaker is open for another hour (core/health.cpp,
    breaker_open: breaker_open_until ahead)."""
    return json.dumps({"state": state, "since": now - 60 * NS, "last_success": None,
                       "last_failure": now - 60 * NS,
                       "last_error": "HTTP 501" if state == "incompatible"
                       else "connection refused",
                       "consecutive_failures": 0 if state == "incompatible" else 5,
                       "breaker_trips": 1, "breaker_open_until": now + 3600 * NS})


def set_meta(db, rows):
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM meta WHERE key IN ('health', 'setting.pause_until')")
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", rows.items())
    con.close()
    checkpoint(db)


def case_breaker(root, binary, size, seed, results):
    c = jobs_community(root, "breaker", binary, size["breaker_jobs"], seed)
    now = time.time_ns()
    con = sqlite3.connect(c.db)
    with con:
        con.execute("UPDATE jobs SET due = ?", (now - 60 * NS,))  # all due now
    con.close()
    checkpoint(c.db)
    variants = []
    for slug, name, meta, says in (
            ("breaker", "breaker open", {"health": health("degraded", now)}, "breaker open"),
            ("pause", "429 pause", {"setting.pause_until": str(now + 3600 * NS)}, "pause"),
            ("incompatible", "incompatible", {"health": health("incompatible", now)},
             "breaker open")):
        db = c.dir / f"{slug}.db"
        copy_db(c.db, db)
        set_meta(db, meta)
        config = c.variant(f"{slug}.toml", db=db)
        # Once, untimed: what it says and exits with, what the loader maps.
        code, err, _, _ = c.run("tick", "-v", env={"LD_DEBUG": "files"}, check=False,
                                config=config)
        if code not in NOT_SENDING_CODES:
            fail(f"breaker: the {name} pass exited {code}: {err.strip()[-2000:]}")
        if says not in err:
            fail(f"breaker: the {name} pass did not say '{says}': {err.strip()[-2000:]}")
        loaded = [lib for lib in LIBRARIES if f"file={lib}" in err]
        note(f"breaker: the {name} pass exits {code}; loaded: {', '.join(loaded) or 'neither'}")
        variants.append((name, db, config, code, loaded))
    note("breaker: timing")
    cmds = [c.argv("tick", config=config) for _, _, config, _, _ in variants]
    query = due_query(time.time_ns())
    cmds += [["sqlite3", str(db), query] for _, db, _, _, _ in variants]
    times, k = interleaved(cmds, size["hyper_runs"], ok=NOT_SENDING_CODES)
    n = len(variants)
    for (name, _, _, code, loaded), ours, ref in zip(variants, times[:n], times[n:]):
        what = counted(f"pass, {name} (exit {code}), {c.jobs:,} due jobs", k,
                       size["hyper_runs"])
        results.append(ratio_row(what, ours, ref, 1.5, "sqlite3"))
        results.append(row(f"pass, {name}: no libcurl/libcrypto loaded",
                           ", ".join(lib.split(".")[0] for lib in loaded) or "neither", "",
                           None, "neither loaded", not loaded))


def case_dry_run(root, binary, size, seed, results):
    idle = idle_community(root, binary, size, seed)
    new = size["dry_run_entries"]
    d = Community(root, "dry-run", binary, UNREACHABLE)
    d.share_log(idle)
    copy_db(idle.db, d.db)
    note(f"dry-run: appending {new} joins to a copy of the idle case's log")
    # Another seed: the appended entries' event ids are new ones.
    d.gen_joins(new, seed + 1, start=idle.jobs, append=True)
    dry = d.argv("tick", "--dry-run")
    p = subprocess.run(d.argv("tick", "--dry-run", "--json"), capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"dry-run: tick --dry-run --json exited {p.returncode}: {p.stderr.strip()}")
    walk = json.loads(p.stdout)["walk"]
    if walk["entries"] != new or not walk["complete"]:
        fail(f"dry-run: the dry run's walk: {walk}")
    before = d.db.stat().st_mtime_ns
    state = {"last": None}

    def forget_copy():
        if state["last"]:
            remove_db(state["last"])
            state["last"].with_suffix(".toml").unlink()
            state["last"] = None

    def real(run):
        """The real pass on a fresh copy of the database (made here, untimed)."""
        forget_copy()
        copy = d.dir / f"copy-{run}.db"
        copy_db(d.db, copy, sync=True)
        state["last"] = copy
        return d.argv("tick", config=d.variant(copy.with_suffix(".toml").name, db=copy))

    check = d.dir / "check.db"
    copy_db(d.db, check)
    _, err, _, _ = d.run("tick", "-v", config=d.variant("check.toml", db=check))
    if f"{new} entries read" not in err:
        fail(f"dry-run: the real pass did not read {new} entries: {err.strip()[-2000:]}")
    remove_db(check)
    note("dry-run: timing")
    dry_t, real_t = take_turns([dry, real], size["runs"], warmup=1)
    if d.db.stat().st_mtime_ns != before:
        fail("dry-run: the dry run wrote to the database")
    forget_copy()
    if d.cursor_line() != idle.jobs:
        fail("dry-run: the database's cursor moved")
    dry_s, real_s = statistics.median(dry_t), statistics.median(real_t)
    what = f"tick --dry-run, {idle.jobs:,} jobs, {new} new entries"
    results.append(ratio_row(what, dry_s, real_s, 2, "real pass (copy)",
                             fmt=lambda s: f"{s:.2f} s"))
    # Peak RSS from one more run of each, spawned as Community.run does (a
    # peak measured from here would count this process's memory too).
    _, _, _, dry_peak = d.run("tick", "--dry-run", check=False)
    _, _, _, real_peak = d.run("tick", check=False, config=real(size["runs"] + 1)[2])
    forget_copy()
    peak, real_peak = dry_peak / 1024, real_peak / 1024
    results.append(row(f"{what}: peak RSS", f"{peak:.1f} MB", f"{real_peak:.1f} MB", None,
                       "<= 64 MB", peak <= 64))
