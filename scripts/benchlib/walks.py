"""The first walk of a log file against openssl hashing the same file."""

import statistics

from .common import UNREACHABLE, Community, fail, note, row, spawn_timed

HASH_RUNS = 3  # openssl runs before and after each walk run


def walk_vs_hash(c, name, n, runs):
    """First walks of c.log (a fresh database each run, registry
    unreachable), with H = openssl dgst -sha256 of the same file taking
    turns: HASH_RUNS runs of H before and after each walk. Returns the
    median walk and H seconds and the walks' peak RSS (MB)."""
    h = ["openssl", "dgst", "-sha256", str(c.log)]
    spawn_timed(h)  # warm-up
    walks, hashes, peaks = [], [], []
    for run in range(runs):
        hashes += [spawn_timed(h) for _ in range(HASH_RUNS)]
        c.fresh_db()
        note(f"{name}: run {run + 1}/{runs}")
        _, _, seconds, rss = c.run("tick", "-q", "--max-seconds", 3600)
        hashes += [spawn_timed(h) for _ in range(HASH_RUNS)]
        line = c.cursor_line()
        if line != n:
            fail(f"{name}: the walk stopped at line {line} of {n}")
        walks.append(seconds)
        peaks.append(rss / 1024)
    return statistics.median(walks), statistics.median(hashes), max(peaks)


def walk_rows(what, n, walk, ref, limit, aim=None):
    ours = f"{walk:.2f} s ({n / walk:,.0f}/s)"
    rows = [row(what, ours, f"{ref:.3f} s", walk / ref, f"<= {limit}x openssl sha256",
                walk / ref <= limit)]
    if aim:
        rows.append(row(f"{what} (aim)", ours, f"{ref:.3f} s", walk / ref,
                        f"<= {aim}x openssl sha256", walk / ref <= aim, aim=True))
    return rows


def case_walk(root, binary, size, seed, results):
    c = Community(root, "walk", binary, UNREACHABLE)
    n = size["walk_entries"]
    note(f"walk: generating {n:,} entries")
    c.gen("--entries", n, "--members", size["walk_members"], "--seed", seed,
          "--rotate-at", n // 2)
    walk, ref, peak = walk_vs_hash(c, "walk", n, size["runs"])
    results.extend(walk_rows(f"first walk, {n:,} entries", n, walk, ref, 8, aim=5))
    results.append(row("first walk, peak RSS", f"{peak:.1f} MB", "", None, "<= 64 MB",
                       peak <= 64))
