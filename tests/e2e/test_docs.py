"""The documentation against the binary: vtc-sync(1) has a subsection for
every command `--help` lists and names every option each one shows, no
subsection for a command the binary lacks, every exit code vtc-sync uses, and
every member of the --json outputs; the bash completion script is valid bash
and completes the commands, subcommands and options `--help` lists. The pages
render with scdoc when it is installed.

The key table of vtc-sync.toml(5) is checked by tests/unit/config/man_test.cpp.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest

import vtcsync
from vtcsync import Community

vtcsync.binary()  # fail at once, clearly, when VTC_SYNC is not set

REPO = pathlib.Path(__file__).resolve().parents[2]
MAN1 = REPO / "man" / "vtc-sync.1.scd"
MAN5 = REPO / "man" / "vtc-sync.toml.5.scd"
COMPLETION = REPO / "scripts" / "completion" / "vtc-sync.bash"

# Every exit code vtc-sync uses.
EXIT_CODES = {0, 1, 64, 65, 66, 69, 70, 74, 75, 76, 78}
HELP_OPTIONS = {"-h", "--help"}


# -- --help --------------------------------------------------------------

def help_of(*path):
    code, out, err = vtcsync.run(*path, "--help")
    if code != 0:
        raise AssertionError(f"vtc-sync {' '.join(path)} --help exited "
                             f"{code}: {err}")
    return out


def parse_help(text):
    """CLI11 help → {"options": [names], "positionals": [names],
    "subcommands": [names]}. Entries sit two spaces in; their descriptions,
    when wrapped, further in."""
    parsed = {"options": [], "positionals": [], "subcommands": []}
    part = None
    for line in text.splitlines():
        header = re.fullmatch(r"(Options|Positionals|Subcommands):\s*", line)
        if header:
            part = header.group(1).lower()
            continue
        if not line.startswith("  ") or line.startswith("   ") or part is None:
            if line and not line.startswith(" "):
                part = None
            continue
        first = line.split()[0]
        if part == "options":
            parsed["options"].extend(first.split(","))
        else:
            parsed[part].append(first)
    return parsed


class Command:
    """One node of the command tree as --help shows it."""

    def __init__(self, path):
        self.path = tuple(path)
        self.help = parse_help(help_of(*self.path))
        self.children = [Command(self.path + (name,))
                         for name in self.help["subcommands"]]

    @property
    def name(self):
        return " ".join(self.path)

    def leaves(self):
        if not self.children:
            return [self]
        return [leaf for c in self.children for leaf in c.leaves()]

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


_TREE = None


def tree():
    global _TREE
    if _TREE is None:
        _TREE = Command(())
    return _TREE


# -- the page ------------------------------------------------------------

def plain(text):
    """scdoc text without bold markers and escapes."""
    return re.sub(r"\\(.)", r"\1", text).replace("*", "")


def parse_page(path):
    """{"# SECTION": {"": [lines before any ##], "## sub": [lines], …}},
    ignoring headings inside ``` blocks."""
    page = {}
    section = sub = None
    fenced = False
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("# "):
            section, sub = line[2:].strip(), ""
            page[section] = {"": []}
            continue
        if not fenced and line.startswith("## ") and section is not None:
            sub = line[3:].strip()
            page[section][sub] = []
            continue
        if section is not None:
            page[section][sub].append(line)
    return page


def section_text(page, section, sub=None):
    parts = page.get(section, {})
    if sub is not None:
        return "\n".join(parts.get(sub, []))
    return "\n".join(line for lines in parts.values() for line in lines)


def mentions(text, word):
    """True when `word` (an option, a positional) stands on its own in text."""
    return re.search(r"(?<![A-Za-z0-9-])" + re.escape(word) + r"(?![A-Za-z0-9-])",
                     plain(text)) is not None


def defines(text, word):
    """True when `word` heads an entry of a term list in text: an unindented
    line such as "*-c*, *--config* _FILE_" or "_JOB_ID_...", not a synopsis
    ("*vtc-sync* ...") nor running text."""
    for line in text.splitlines():
        if line[:1] in ("*", "_") and not line.startswith("*vtc-sync*") \
                and mentions(line, word):
            return True
    return False


def table_first_cells(lines):
    """First cells of the rows of the first scdoc table in lines."""
    cells, started = [], False
    for line in lines:
        if line[:1] in ("[", "|"):
            started = True
            cells.append(plain(line[2:]).strip())
        elif started and line[:1] not in (":", " "):
            break
    return cells


def tables(lines):
    """Every scdoc table in lines, as lists of rows of cell texts."""
    out, rows = [], None
    for line in lines:
        if line[:1] in ("[", "|"):
            if rows is None:
                rows = []
                out.append(rows)
            rows.append([plain(line[2:]).strip()])
        elif line[:1] == ":" and rows:
            rows[-1].append(plain(line[2:]).strip())
        elif line.startswith(" ") and rows:
            continue
        else:
            rows = None
    return out


class ManPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.page = parse_page(MAN1)
        cls.commands = cls.page.get("COMMANDS", {})

    def test_sections(self):
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS",
                        "COMMANDS", "JSON OUTPUT", "EXIT STATUS", "FILES",
                        "ENVIRONMENT", "EXAMPLES", "NOT HANDLED YET",
                        "SEE ALSO"):
            self.assertTrue(section in self.page, f"{MAN1}: no # {section}")
        self.assertIn("vtc-sync.toml(5)", plain(section_text(self.page, "SEE ALSO")))

    def test_every_command_has_a_subsection(self):
        subsections = set(self.commands) - {""}
        for node in tree().walk():
            if not node.path:
                continue
            with self.subTest(command=node.name):
                if node.children:
                    self.assertTrue(
                        any(s.startswith(node.name + " ") for s in subsections),
                        f"{MAN1}: no '## {node.name} …' subsection under "
                        f"# COMMANDS")
                else:
                    self.assertIn(node.name, subsections,
                                  f"{MAN1}: no '## {node.name}' under # COMMANDS")

    def test_no_subsection_for_a_command_the_binary_lacks(self):
        leaves = {leaf.name for leaf in tree().leaves()}
        for sub in self.commands:
            if sub:
                with self.subTest(subsection=sub):
                    self.assertIn(sub, leaves,
                                  f"{MAN1}: '## {sub}' documents a command "
                                  f"`vtc-sync --help` does not list; put it "
                                  f"under # NOT HANDLED YET")

    def test_every_option_is_in_its_command_section(self):
        for leaf in tree().leaves():
            text = section_text(self.page, "COMMANDS", leaf.name)
            for option in leaf.help["options"]:
                if option in HELP_OPTIONS:
                    continue
                with self.subTest(command=leaf.name, option=option):
                    self.assertTrue(defines(text, option),
                                    f"{MAN1}: '## {leaf.name}' has no entry "
                                    f"for {option}")
            for positional in leaf.help["positionals"]:
                with self.subTest(command=leaf.name, positional=positional):
                    self.assertTrue(defines(text, positional),
                                    f"{MAN1}: '## {leaf.name}' has no entry "
                                    f"for {positional}")

    def test_every_global_option_is_documented(self):
        text = section_text(self.page, "GLOBAL OPTIONS")
        options = tree().help["options"]
        self.assertIn("--config", options)
        for option in options:
            with self.subTest(option=option):
                self.assertTrue(defines(text, option),
                                f"{MAN1}: # GLOBAL OPTIONS has no entry for "
                                f"{option}")

    def test_exit_status_lists_every_exit_code(self):
        lines = self.page.get("EXIT STATUS", {}).get("", [])
        codes = {int(c) for c in table_first_cells(lines) if c.isdigit()}
        self.assertEqual(EXIT_CODES - codes, set(),
                         f"{MAN1}: exit codes missing from the EXIT STATUS "
                         f"table")

    def test_exit_status_has_the_step_table(self):
        lines = self.page.get("EXIT STATUS", {}).get("", [])
        headers = [[c.lower() for c in t[0]] for t in tables(lines) if t]
        step = [h for h in headers if h[1:] == ["walk", "dispatch"]]
        self.assertTrue(step, f"{MAN1}: no cause | walk | dispatch table in "
                              f"EXIT STATUS")

    def test_not_handled_yet_names_no_available_command(self):
        text = section_text(self.page, "NOT HANDLED YET")
        self.assertTrue(text.strip(), f"{MAN1}: NOT HANDLED YET is empty")
        names = {n.name for n in tree().walk() if n.path}
        listed = [t for t in re.findall(r"\*([^*]+)\*", text)
                  if re.fullmatch(r"[a-z]+( [a-z]+)?", t)]
        for term in listed:
            with self.subTest(term=term):
                self.assertNotIn(term, names,
                                 f"{MAN1}: '{term}' is available now; document "
                                 f"it under # COMMANDS")

    def test_pages_render_with_scdoc(self):
        scdoc = shutil.which("scdoc")
        if scdoc is None:
            self.skipTest("scdoc is not installed")
        for page in (MAN1, MAN5):
            with self.subTest(page=page.name), open(page, "rb") as f:
                p = subprocess.run([scdoc], stdin=f, capture_output=True,
                                   timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr.decode())
                self.assertIn(b".TH", p.stdout)


def keys_of(value, prefix=""):
    """Member names of a JSON value, nested objects and the first element of
    arrays included, except under `detail` and `events` (whose member names
    are data)."""
    out = set()
    if isinstance(value, list) and value:
        out |= keys_of(value[0], prefix)
    elif isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            if k not in ("detail", "events"):
                out |= keys_of(v, prefix + k + ".")
    return out


class JsonOutputTest(unittest.TestCase):
    """Every member the --json outputs print is named in its subsection of
    JSON OUTPUT."""

    @classmethod
    def setUpClass(cls):
        cls.page = parse_page(MAN1)

    def documented(self, sub, value):
        text = section_text(self.page, "JSON OUTPUT", sub)
        self.assertTrue(text.strip(), f"{MAN1}: no '## {sub}' under # JSON OUTPUT")
        for key in sorted(keys_of(value)):
            with self.subTest(output=sub, member=key):
                self.assertIn(f'"{key}"', text,
                              f"{MAN1}: '## {sub}' does not show \"{key}\"")

    def run_ok(self, c, *args, codes=(0,)):
        code, out, err = c.run(*args)
        self.assertIn(code, codes, f"vtc-sync {' '.join(args)}: {err}")
        return out

    def test_members_of_every_json_output_are_documented(self):
        c = Community()
        self.addCleanup(c.cleanup)
        self.run_ok(c, "tick", codes=(0, 69, 76))
        self.documented("status --json", json.loads(self.run_ok(c, "status", "--json")))

        jobs = [json.loads(l) for l in
                self.run_ok(c, "queue", "list", "--json").splitlines()]
        self.assertTrue(jobs, "the basic community left no live job")
        self.documented("queue list --json", jobs[0])

        tried = next((j for j in jobs if j["attempts"] > 0), jobs[0])
        show = json.loads(self.run_ok(c, "queue", "show", tried["id"], "--json"))
        self.documented("queue show --json", show)

        outcomes = [json.loads(l) for l in
                    self.run_ok(c, "outcomes", "list", "--json").splitlines()]
        self.assertTrue(outcomes, "the basic community recorded no outcome")
        self.documented("outcomes list --json", outcomes[0])

        self.documented("audit verify --json",
                        json.loads(self.run_ok(c, "audit", "verify", "--json")))

        with vtcsync.OkRegistry() as registry:
            synced = Community(registry_url=registry.url,
                               extra={"sync": {"max_jobs_per_pass": 100}})
            self.addCleanup(synced.cleanup)
            self.run_ok(synced, "tick")
        records = [json.loads(l) for l in
                   self.run_ok(synced, "records", "list", "--json").splitlines()]
        self.assertTrue(records, "the basic community wrote no record")
        self.documented("records list --json", records[0])
        self.documented("records show --json", json.loads(self.run_ok(
            synced, "records", "show", records[0]["record"]["entity_id"], "--json")))

        c.copy_log("basic.audit.jsonl")  # as if new: a plan with every list
        c.db_path.unlink()
        plan = json.loads(self.run_ok(c, "tick", "--dry-run", "--json"))
        self.assertTrue(plan["created"] and plan["superseded"] and plan["requests"])
        self.documented("tick --dry-run --json", plan)

    def test_members_of_failure_reports_are_documented(self):
        c = Community(log="tampered.audit.jsonl")
        self.addCleanup(c.cleanup)
        self.run_ok(c, "tick", codes=(65,))
        status = json.loads(self.run_ok(c, "status", "--json"))
        self.assertIsNotNone(status["audit_failure"])
        self.documented("status --json", status)
        verify = json.loads(self.run_ok(c, "audit", "verify", "--json", codes=(65,)))
        self.assertIsNotNone(verify["failure"])
        self.documented("audit verify --json", verify)


# -- bash completion -------------------------------------------------------

def bash():
    return shutil.which("bash") or "/bin/bash"


def complete(*words, cwd=None):
    """COMPREPLY of _vtc_sync for the command line `words` (the last one is
    the word being completed)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); '
              'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); '
              'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; '
              '_vtc_sync; printf "%s\\n" "${COMPREPLY[@]}"')
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    p = subprocess.run([bash(), "--norc", "--noprofile", "-c", script, "bash",
                        str(COMPLETION), *words],
                       capture_output=True, text=True, timeout=60, env=env,
                       cwd=cwd)
    if p.returncode != 0:
        raise AssertionError(f"completing {words}: exit {p.returncode}: "
                             f"{p.stderr}")
    return [w for w in p.stdout.splitlines() if w]


class CompletionTest(unittest.TestCase):
    def test_script_is_valid_bash(self):
        p = subprocess.run([bash(), "-n", str(COMPLETION)], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_registers_for_vtc_sync(self):
        p = subprocess.run([bash(), "--norc", "--noprofile", "-c",
                            'source "$1" && complete -p vtc-sync', "bash",
                            str(COMPLETION)],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("_vtc_sync", p.stdout)

    def test_command_prefix(self):
        self.assertEqual(complete("vtc-sync", "qu"), ["queue"])

    def test_queue_subcommands(self):
        got = set(complete("vtc-sync", "queue", ""))
        self.assertTrue({"list", "show", "retry", "discard"} <= got, got)

    def test_every_command_and_subcommand(self):
        for node in tree().walk():
            if not node.children:
                continue
            with self.subTest(command=node.name or "vtc-sync"):
                got = set(complete("vtc-sync", *node.path, ""))
                self.assertEqual(got, set(node.help["subcommands"]))

    def test_every_option_of_every_command(self):
        for leaf in tree().leaves():
            with self.subTest(command=leaf.name):
                got = set(complete("vtc-sync", *leaf.path, "-"))
                missing = set(leaf.help["options"]) - got
                self.assertEqual(missing, set(),
                                 f"completion of `vtc-sync {leaf.name} -` "
                                 f"lacks options")

    def test_global_options(self):
        got = set(complete("vtc-sync", "-"))
        self.assertEqual(set(tree().help["options"]) - got, set())

    def test_values(self):
        self.assertEqual(set(complete("vtc-sync", "--log-format", "")),
                         {"text", "json"})
        self.assertEqual(set(complete("vtc-sync", "queue", "list", "--state", "")),
                         {"pending", "in_flight", "failed", "all"})
        self.assertEqual(set(complete("vtc-sync", "queue", "list", "--kind", "")),
                         {"publish", "update", "depart", "delete", "withdraw",
                          "retire"})

    def test_files_after_config_and_db(self):
        with tempfile.TemporaryDirectory(prefix="vtc-docs-") as d:
            (pathlib.Path(d) / "vtc-sync.toml").write_text("")
            (pathlib.Path(d) / "state.db").write_text("")
            for option, prefix, name in (("-c", "vtc", "vtc-sync.toml"),
                                         ("--config", "vtc", "vtc-sync.toml"),
                                         ("--db", "st", "state.db")):
                with self.subTest(option=option):
                    self.assertEqual(
                        complete("vtc-sync", option, f"{d}/{prefix}"),
                        [f"{d}/{name}"])
            self.assertEqual(complete("vtc-sync", "--db", "=", "st", cwd=d),
                             ["state.db"])
            self.assertEqual(
                complete("vtc-sync", "-c", "x.toml", "queue", "list", "--db",
                         "st", cwd=d), ["state.db"])


if __name__ == "__main__":
    unittest.main()
