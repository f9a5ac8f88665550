"""Helpers for vtc-sync's end-to-end tests (standard library only), under
one name: `import vtcsync` gives all of

  vtcsync_run.py       running vtc-sync and gen-audit, exit codes, data files
  community.py         temporary communities and registries for them
  state_db.py          reading a state database
  idempotency_keys.py  the Idempotency-Keys vtc-sync sends

Environment:
  VTC_SYNC        the vtc-sync binary (required)
  VTC_GEN_AUDIT   scripts/gen-audit (default: the repository's)
  VTC_TEST_DATA   the public vectors (default: the repository's tests/data)
"""

from community import (COMMUNITY_DID, DISPATCH_DEFAULTS, LOOPBACK_REGISTRY, Community,
                       OkRegistry, RegistryTestCase, VtcCommunity, to_toml, toml_value)
from idempotency_keys import KEY_RE, KeysOfJobs, assert_key, key_job, key_parts, key_round
from state_db import (STATE_VIEWS, TALLY_CHECK, WALK_OUTCOMES, Db, comparable_jobs,
                      comparable_outcomes, hash_text, job_id_text, uuid_text, walk_state)
from vtcsync_run import (DEFAULT_TIMEOUT, ERROR_PREFIX, EX_CONFIG, EX_DATAERR, EX_IOERR,
                         EX_NOINPUT, EX_OK, EX_TEMPFAIL, EX_USAGE, LIBFAKETIME, REPO, binary,
                         clean_env, data_dir, data_file, error_lines, event_ids, faketime_env,
                         file_state, gen_audit, gen_audit_path, load_json, log_lines,
                         peak_rss, poll, run, sigkill, start)

__all__ = [
    "COMMUNITY_DID", "DISPATCH_DEFAULTS", "LOOPBACK_REGISTRY", "Community",
    "OkRegistry", "RegistryTestCase", "VtcCommunity", "to_toml", "toml_value", "KEY_RE",
    "KeysOfJobs", "assert_key", "key_job", "key_parts", "key_round", "STATE_VIEWS",
    "TALLY_CHECK", "WALK_OUTCOMES", "Db", "comparable_jobs", "comparable_outcomes",
    "hash_text", "job_id_text", "uuid_text", "walk_state", "DEFAULT_TIMEOUT",
    "ERROR_PREFIX", "EX_CONFIG", "EX_DATAERR", "EX_IOERR", "EX_NOINPUT", "EX_OK",
    "EX_TEMPFAIL", "EX_USAGE", "LIBFAKETIME", "REPO", "binary", "clean_env", "data_dir",
    "data_file", "error_lines", "event_ids", "faketime_env", "file_state", "gen_audit",
    "gen_audit_path", "load_json", "log_lines", "peak_rss", "poll", "run", "sigkill",
    "start",
]
