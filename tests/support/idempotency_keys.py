"""The Idempotency-Keys vtc-sync sends, taken apart for end-to-end tests
(standard library only)."""

import re

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
