"""First walks of a log file against openssl hashing the same file: the
random strict log, and a log of joins mixed with other membership events."""

import random
import statistics

from .common import (ADMIN_DID, UNREACHABLE, Community, fail, joined, member_did, note, row,
                     spawn_timed)

HASH_RUNS = 3  # openssl runs before and after each walk run
ROLES = ("member", "moderator", "issuer")


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


def joins_script(n, seed):
    """n/2 MemberAdded of new members, each followed by another membership
    event of a member drawn at random from those added so far and not
    removed (the one just added among them): 70% RoleChanged to another
    role, 30% MemberRemoved (tombstone, historical or purge, as gen-audit's
    random mode draws them); a removed member does not come back."""
    rng = random.Random(seed)
    active, roles = [], {}
    for i in range(n // 2):
        yield joined(i)
        active.append(i)
        roles[i] = "member"
        k = int(rng.random() * len(active))
        m = active[k]
        if rng.random() < 0.7:
            old = roles[m]
            roles[m] = ROLES[(ROLES.index(old) + 1 + int(rng.random() * 2)) % 3]
            kind, data = "RoleChanged", f'{{"previousRole":"{old}","newRole":"{roles[m]}"}}'
        else:
            active[k] = active[-1]
            active.pop()
            disposition = ("tombstone", "historical", "purge")[int(rng.random() * 3)]
            kind, data = "MemberRemoved", (f'{{"disposition":"{disposition}",'
                                           f'"priorRole":"{roles.pop(m)}"}}')
        yield (f'{{"type":"{kind}","data":{data},"actor":"{ADMIN_DID}",'
               f'"target":"{member_did(m)}"}}\n')


def case_walk_joins(root, binary, size, seed, results):
    c = Community(root, "walk-joins", binary, UNREACHABLE)
    n = size["joins_walk_entries"]
    note(f"walk-joins: generating {n:,} entries, {n // 2:,} of them joins")
    c.gen_script(joins_script(n, seed), seed)
    walk, ref, peak = walk_vs_hash(c, "walk-joins", n, size["runs"])
    note(f"walk-joins: peak RSS {peak:.1f} MB")
    results.extend(walk_rows(f"first walk, {n:,} entries, {n // 2:,} joins", n, walk, ref,
                             8))
