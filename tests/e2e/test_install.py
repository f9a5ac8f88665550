"""The installed tree (`meson install --destdir`), every file of it: the
binary, both man pages, bash completion, the example configuration, the
crontab example, the Kubernetes manifest and the systemd units, each checked
for what an operator relies on."""

import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import build_info
import vtcsync
from installed import Installed

# `sync.max_seconds_per_pass`, `registry.timeout_seconds` by default.
PASS_SECONDS, TIMEOUT_SECONDS = 25, 15
MAN_TOML = pathlib.Path(os.environ.get("VTC_SOURCE_ROOT", vtcsync.REPO)) / "man" / "vtc-sync.toml.5.scd"


def parse_unit(text):
    """{section: [(key, value), ...]} of a systemd unit file."""
    sections = {}
    current = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if m:
            current = sections.setdefault(m.group(1), [])
            continue
        if current is None or "=" not in line:
            raise AssertionError(f"line {n}: not a key=value in a section: {raw!r}")
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit, section, key):
    got = values(unit, section, key)
    if len(got) != 1:
        raise AssertionError(f"[{section}] {key}: expected one value, got {got}")
    return got[0]


def seconds(span):
    """A systemd time span ('50s', '1min 30s', '5') in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "ms": 0.001}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span):
        total += float(number) * units[unit]
    return total


def man_keys():
    """{key: "Type: ...; default: ..."} from vtc-sync.toml(5)."""
    text = MAN_TOML.read_text()
    keys = {}
    for m in re.finditer(r"^\*([a-z_]+\.[a-z_]+)\*\n\tType: ([^;]+); default: ([^;]+);", text, re.M):
        keys[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    return keys


def strip_comments(text):
    """The manifest without its whole-line comments: plain JSON."""
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))


class InstalledTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Installed()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def path(self, installed):
        return self.inst.staged(installed)

    def read(self, installed):
        return self.path(installed).read_text(encoding="utf-8")

    def expected(self):
        i = self.inst
        return {
            f"{i.bindir}/vtc-sync",
            f"{i.mandir}/man1/vtc-sync.1",
            f"{i.mandir}/man5/vtc-sync.toml.5",
            f"{i.datadir}/bash-completion/completions/vtc-sync",
            f"{i.docdir}/vtc-sync.toml.example",
            f"{i.docdir}/vtc-sync.cron",
            f"{i.docdir}/vtc-sync-cronjob.yaml",
            f"{i.unitdir}/vtc-sync.service",
            f"{i.unitdir}/vtc-sync.timer",
            f"{i.unitdir}/vtc-sync@.service",
            f"{i.unitdir}/vtc-sync@.timer",
        }

    def test_installs_exactly_these_files(self):
        self.assertEqual(self.inst.files(), self.expected())

    def test_binary_runs(self):
        exe = self.path(f"{self.inst.bindir}/vtc-sync")
        self.assertTrue(os.access(exe, os.X_OK))
        p = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        build_info.check_version_line(self, p.stdout)

    def test_man_pages_are_roff(self):
        for page, section in (("vtc-sync", "1"), ("vtc-sync.toml", "5")):
            with self.subTest(page=page):
                text = self.read(f"{self.inst.mandir}/man{section}/{page}.{section}")
                self.assertTrue(re.search(rf'(?m)^\.TH "{re.escape(page)}" "{section}"', text),
                                f"{page}.{section}: no .TH line")
                self.assertIn(".SH NAME", text)
        self.assertIn("backup", self.read(f"{self.inst.mandir}/man1/vtc-sync.1"))
        self.assertIn("vtc_sync_requests_total", self.read(f"{self.inst.mandir}/man1/vtc-sync.1"))

    def test_bash_completion_registers_vtc_sync(self):
        script = self.path(f"{self.inst.datadir}/bash-completion/completions/vtc-sync")
        p = subprocess.run(["bash", "-c", 'source "$1" && complete -p vtc-sync', "bash", script],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("-F _vtc_sync vtc-sync", p.stdout)

    # -- the example configuration -------------------------------------
    def example_keys(self):
        """{key: (type, default, line)} of the example: each key preceded by
        its '# type: T; default: D' comment, set or commented out."""
        text = self.read(f"{self.inst.docdir}/vtc-sync.toml.example")
        keys = {}
        section = None
        pending = None
        for line in text.splitlines():
            m = re.fullmatch(r"\[([a-z]+)\]", line)
            if m:
                section = m.group(1)
                continue
            m = re.fullmatch(r"# type: (.+); default: (.+)", line)
            if m:
                pending = (m.group(1), m.group(2))
                continue
            m = re.fullmatch(r"(# )?([a-z_]+) = (.+)", line)
            if m:
                self.assertIsNotNone(pending, f"{section}.{m.group(2)} has no type comment")
                keys[f"{section}.{m.group(2)}"] = (*pending, line)
                pending = None
        return text, keys

    def test_example_lists_every_key_with_the_man_pages_type_and_default(self):
        _, keys = self.example_keys()
        documented = man_keys()
        self.assertGreaterEqual(len(documented), 30)
        self.assertEqual(set(keys), set(documented))
        for key, (typ, default, _line) in keys.items():
            with self.subTest(key=key):
                man_type, man_default = documented[key]
                self.assertEqual(typ.split(" (")[0], man_type)
                self.assertEqual(default, man_default)

    def test_example_is_a_valid_configuration_with_or_without_the_defaults(self):
        text, _ = self.example_keys()
        uncommented = re.sub(r"(?m)^# ([a-z_]+ = )", r"\1", text)
        exe = self.path(f"{self.inst.bindir}/vtc-sync")
        with tempfile.TemporaryDirectory() as d:
            for name, body in (("as-shipped", text), ("all-keys", uncommented)):
                with self.subTest(name):
                    conf = pathlib.Path(d) / f"{name}.toml"
                    conf.write_text(body)
                    p = subprocess.run([exe, "-c", conf, "--db", f"{d}/none.db", "status"],
                                       capture_output=True, text=True, timeout=30,
                                       env=vtcsync.clean_env())
                    # The configuration is accepted; only the database is missing.
                    self.assertEqual(p.returncode, vtcsync.EX_NOINPUT, p.stderr)
            self.assertIn("max_seconds_per_pass = 25", uncommented)

    # -- cron ------------------------------------------------------------
    def test_crontab_runs_a_quiet_pass_every_ten_seconds(self):
        text = self.read(f"{self.inst.docdir}/vtc-sync.cron")
        offsets = []
        for line in text.splitlines():
            if not line or line.startswith("#") or re.fullmatch(r"[A-Z_]+=\S+", line):
                continue
            fields = line.split(None, 6)
            self.assertEqual(fields[:5], ["*"] * 5, line)
            self.assertEqual(fields[5], "vtc-sync", line)  # the user (cron.d format)
            command = fields[6]
            m = re.fullmatch(r"(?:sleep (\d+); )?(\S+) -q tick", command)
            self.assertIsNotNone(m, command)
            self.assertEqual(m.group(2), f"{self.inst.bindir}/vtc-sync")
            offsets.append(int(m.group(1) or 0))
        self.assertEqual(offsets, list(range(0, 60, 10)))

    # -- Kubernetes --------------------------------------------------------
    def test_kubernetes_manifest(self):
        text = self.read(f"{self.inst.docdir}/vtc-sync-cronjob.yaml")
        doc = json.loads(strip_comments(text))  # the JSON subset of YAML
        self.assertEqual(doc["kind"], "List")
        by_kind = {item["kind"]: item for item in doc["items"]}
        self.assertEqual(set(by_kind), {"PersistentVolumeClaim", "ConfigMap", "CronJob"})
        cron = by_kind["CronJob"]
        self.assertEqual(cron["apiVersion"], "batch/v1")
        spec = cron["spec"]
        self.assertEqual(spec["concurrencyPolicy"], "Forbid")
        self.assertEqual(spec["schedule"], "* * * * *")  # one pass per tick
        job = spec["jobTemplate"]["spec"]
        self.assertEqual(job["backoffLimit"], 0)
        self.assertGreaterEqual(job["activeDeadlineSeconds"], PASS_SECONDS + TIMEOUT_SECONDS + 10)
        pod = job["template"]["spec"]
        self.assertEqual(pod["restartPolicy"], "Never")
        sc = pod["securityContext"]
        self.assertTrue(sc["runAsNonRoot"])
        self.assertEqual(sc["runAsGroup"], sc["fsGroup"])
        volumes = {v["name"]: v for v in pod["volumes"]}
        [container] = pod["containers"]
        self.assertIn("tick", container["args"])
        self.assertFalse(container["securityContext"]["allowPrivilegeEscalation"])
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        env = {e["name"]: e["value"] for e in container["env"]}

        # The state database on the claim, a block volume, not NFS.
        state = volumes["state"]
        self.assertEqual(set(state) - {"name"}, {"persistentVolumeClaim"})
        claim = by_kind["PersistentVolumeClaim"]
        self.assertEqual(state["persistentVolumeClaim"]["claimName"], claim["metadata"]["name"])
        self.assertEqual(claim["spec"]["accessModes"], ["ReadWriteOnce"])
        self.assertFalse(any("nfs" in v for v in volumes.values()))
        self.assertTrue(env["VTC_SYNC_STATE_DB"].startswith(mounts["state"]["mountPath"] + "/"))
        self.assertFalse(mounts["state"].get("readOnly", False))

        # Secrets as files, readable by owner and group only.
        secret = volumes["secrets"]["secret"]
        self.assertEqual(secret["defaultMode"] & 0o007, 0)
        self.assertTrue(mounts["secrets"]["readOnly"])
        self.assertTrue(env["VTC_SYNC_REGISTRY_TOKEN_FILE"].startswith(
            mounts["secrets"]["mountPath"] + "/"))
        # The configuration from the ConfigMap, where VTC_SYNC_CONFIG looks.
        cm = by_kind["ConfigMap"]
        self.assertEqual(volumes["config"]["configMap"]["name"], cm["metadata"]["name"])
        conf_name = pathlib.PurePosixPath(env["VTC_SYNC_CONFIG"])
        self.assertEqual(str(conf_name.parent), mounts["config"]["mountPath"])
        self.assertIn(conf_name.name, cm["data"])
        # Every variable is one vtc-sync knows (unknown ones are errors).
        for name in env:
            self.assertIn(name, ("VTC_SYNC_CONFIG", "VTC_SYNC_STATE_DB",
                                 "VTC_SYNC_REGISTRY_TOKEN_FILE"))

    def test_kubernetes_manifest_configuration_is_valid(self):
        text = self.read(f"{self.inst.docdir}/vtc-sync-cronjob.yaml")
        doc = json.loads(strip_comments(text))
        cm = next(i for i in doc["items"] if i["kind"] == "ConfigMap")
        exe = self.path(f"{self.inst.bindir}/vtc-sync")
        with tempfile.TemporaryDirectory() as d:
            conf = pathlib.Path(d) / "vtc-sync.toml"
            conf.write_text(cm["data"]["vtc-sync.toml"])
            token = pathlib.Path(d) / "registry-token"
            token.write_text("t0ken\n")
            os.chmod(token, 0o440)
            p = subprocess.run([exe, "status"], capture_output=True, text=True, timeout=30,
                               env=vtcsync.clean_env({
                                   "VTC_SYNC_CONFIG": str(conf),
                                   "VTC_SYNC_STATE_DB": f"{d}/state.db",
                                   "VTC_SYNC_REGISTRY_TOKEN_FILE": str(token)}))
            self.assertEqual(p.returncode, vtcsync.EX_NOINPUT, p.stderr)

    def test_kubernetes_manifest_is_yaml_too(self):
        # Where a YAML parser is at hand, it must read the same document.
        try:
            import yaml  # noqa: PLC0415 (optional)
        except ImportError:
            self.skipTest("no YAML parser for this python")
        text = self.read(f"{self.inst.docdir}/vtc-sync-cronjob.yaml")
        self.assertEqual(yaml.safe_load(text), json.loads(strip_comments(text)))

    # -- systemd -----------------------------------------------------------
    def unit(self, name):
        return parse_unit(self.read(f"{self.inst.unitdir}/{name}"))

    def check_service(self, u, instance):
        self.assertEqual(one(u, "Service", "Type"), "oneshot")
        self.assertEqual(values(u, "Service", "Restart"), [])
        self.assertIn("75", one(u, "Service", "SuccessExitStatus").split())
        self.assertGreaterEqual(seconds(one(u, "Service", "TimeoutStartSec")),
                                PASS_SECONDS + TIMEOUT_SECONDS + 10)
        exec_start = one(u, "Service", "ExecStart").split()
        self.assertEqual(exec_start[0], f"{self.inst.bindir}/vtc-sync")
        self.assertEqual(exec_start[-1], "tick")
        self.assertEqual(one(u, "Service", "DynamicUser"), "yes")
        self.assertEqual(one(u, "Service", "ProtectSystem"), "strict")
        self.assertEqual(one(u, "Service", "NoNewPrivileges"), "yes")
        self.assertEqual(one(u, "Service", "PrivateTmp"), "yes")
        families = one(u, "Service", "RestrictAddressFamilies").split()
        self.assertEqual(set(families), {"AF_INET", "AF_INET6", "AF_UNIX"})
        env = dict(v.split("=", 1) for v in values(u, "Service", "Environment"))
        cred_name, _, cred_source = one(u, "Service", "LoadCredential").partition(":")
        self.assertEqual(env["VTC_SYNC_REGISTRY_TOKEN_FILE"], f"%d/{cred_name}")
        self.assertTrue(cred_source.startswith("/etc/vtc-sync/"))
        if instance:
            self.assertEqual(one(u, "Service", "StateDirectory"), "vtc-sync/%i")
            self.assertEqual(env["VTC_SYNC_CONFIG"], "/etc/vtc-sync/%i.toml")
            self.assertEqual(env["VTC_SYNC_STATE_DB"], "%S/vtc-sync/%i/state.db")
        else:
            self.assertEqual(one(u, "Service", "StateDirectory"), "vtc-sync")
            self.assertEqual(env["VTC_SYNC_STATE_DB"], "%S/vtc-sync/state.db")
        return env

    def check_timer(self, u):
        self.assertLessEqual(seconds(one(u, "Timer", "OnUnitInactiveSec")), 30)
        self.assertEqual(seconds(one(u, "Timer", "AccuracySec")), 1)
        self.assertGreater(seconds(one(u, "Timer", "OnBootSec")), 0)
        self.assertEqual(one(u, "Install", "WantedBy"), "timers.target")

    def test_units(self):
        envs = []
        for name, instance in (("vtc-sync.service", False), ("vtc-sync@.service", True)):
            with self.subTest(name):
                envs.append(self.check_service(self.unit(name), instance))
        for name in ("vtc-sync.timer", "vtc-sync@.timer"):
            with self.subTest(name):
                self.check_timer(self.unit(name))
        # The units' environment, with systemd's specifiers filled in, is one
        # the binary accepts: no unknown VTC_SYNC_* variable, a usable token.
        exe = self.path(f"{self.inst.bindir}/vtc-sync")
        with tempfile.TemporaryDirectory() as d:
            (pathlib.Path(d) / "vtc-sync" / "alpha").mkdir(parents=True)
            token = pathlib.Path(d) / "registry-token"
            token.write_text("t0ken\n")
            os.chmod(token, 0o400)
            conf = pathlib.Path(d) / "alpha.toml"
            conf.write_text(vtcsync.to_toml({
                "vtc": {"did": vtcsync.COMMUNITY_DID},
                "audit": {"source": f"{d}/audit.jsonl"},
                "registry": {"url": "https://registry.example"}}))
            for env in envs:
                filled = {k: v.replace("%d", d).replace("%S", d).replace("%i", "alpha")
                          for k, v in env.items()}
                filled["VTC_SYNC_CONFIG"] = str(conf)
                p = subprocess.run([exe, "status"], capture_output=True, text=True,
                                   timeout=30, env=vtcsync.clean_env(filled))
                self.assertEqual(p.returncode, vtcsync.EX_NOINPUT, p.stderr)
                self.assertIn(filled["VTC_SYNC_STATE_DB"], p.stderr)


if __name__ == "__main__":
    unittest.main()
