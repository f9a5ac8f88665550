"""Passes that must not send: with the breaker open, in a 429 pause, with
the registry incompatible."""

import json
import sqlite3
import time

from .common import (NS, checkpoint, copy_db, counted, due_query, fail, interleaved,
                     jobs_community, note, ratio_row, row)

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
