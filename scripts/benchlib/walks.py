"""The first walk of a log file."""

import statistics

from .common import UNREACHABLE, Community, fail, note, row


def case_walk(root, binary, size, seed, results):
    c = Community(root, "walk", binary, UNREACHABLE)
    n = size["walk_entries"]
    note(f"walk: generating {n:,} entries")
    c.gen("--entries", n, "--members", size["walk_members"], "--seed", seed,
          "--rotate-at", n // 2)
    rates, peaks = [], []
    for run in range(size["runs"]):
        c.fresh_db()
        note(f"walk: run {run + 1}/{size['runs']}")
        _, _, seconds, rss = c.run("tick", "-q", "--max-seconds", 3600)
        rates.append(n / seconds)
        peaks.append(rss / 1024)
    line = c.cursor_line()
    if line != n:
        fail(f"the walk stopped at line {line} of {n}")
    rate, peak = statistics.median(rates), max(peaks)
    results.append(row(f"first walk, {n:,} entries", f"{rate:,.0f} entries/s", "", None,
                       ">= 150,000/s", rate >= 150_000))
    results.append(row("first walk, peak RSS", f"{peak:.1f} MB", "", None, "<= 64 MB",
                       peak <= 64))
