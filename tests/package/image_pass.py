"""Runs vtc-sync inside an unpacked image root the way a Kubernetes pod
does, and prints what happened as one JSON object. Run it as root under
`unshare --net --mount --fork`: loopback is the only network, and the mounts
made here vanish with the namespace.

usage: image_pass.py ROOTFS CONFIG_JSON WORK

The root is bind-mounted read-only over itself; WORK/config is mounted at
/etc/vtc-sync (read-only), WORK/audit at /var/lib/vtc (read-only) and
WORK/state at /var/lib/vtc-sync (the only writable place), as the manifest
does. The process runs as the image's user with the image's entrypoint
and environment."""

import json
import os
import subprocess
import sys

from registry import Registry


def run(*argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def must(*argv):
    p = run(*argv)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: {p.stderr.strip()}")


def main():
    root, config_path, work = sys.argv[1:]
    with open(config_path) as f:
        config = json.load(f)["config"]
    must("ip", "link", "set", "lo", "up")
    # The audit volume's mount point, which a runtime creates.
    os.makedirs(os.path.join(root, "var/lib/vtc"), exist_ok=True)
    must("mount", "--bind", root, root)
    must("mount", "-o", "remount,bind,ro", root)
    must("mount", "-t", "proc", "proc", os.path.join(root, "proc"))
    must("mount", "--rbind", "/dev", os.path.join(root, "dev"))
    must("mount", "--bind", os.path.join(work, "state"), os.path.join(root, "var/lib/vtc-sync"))
    for src, dst in (("config", "etc/vtc-sync"), ("audit", "var/lib/vtc")):
        must("mount", "--bind", os.path.join(work, src), os.path.join(root, dst))
        must("mount", "-o", "remount,bind,ro", os.path.join(root, dst))

    user = config["User"]
    env = dict(e.split("=", 1) for e in config.get("Env", []))
    env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")

    def in_image(*args, as_user=True):
        spec = [f"--userspec={user}"] if as_user else []
        return run("chroot", *spec, root, *args, env=env, cwd="/")

    result = {}
    with Registry() as registry:
        with open(os.path.join(work, "config", "vtc-sync.toml"), "a") as f:
            f.write(f'\n[registry]\nurl = "{registry.url}"\n')
        for name, args in (("version", ["--version"]),
                           ("tick", ["--log-format", "json", "tick"]),
                           ("again", ["--log-format", "json", "tick"]),
                           ("status", ["status", "--json"])):
            p = in_image(*config["Entrypoint"], *args)
            result[name] = {"rc": p.returncode, "out": p.stdout, "err": p.stderr}
        result["records"] = len(registry.records())
    # The root is read-only, for its user and for root alike.
    result["write_tmp"] = in_image("/bin/sh", "-c", "echo x >/tmp/probe").returncode
    result["write_usr_as_root"] = in_image("/bin/sh", "-c", "echo x >/usr/probe",
                                           as_user=False).returncode
    state = os.stat(os.path.join(work, "state", "state.db"))
    result["db_owner"] = f"{state.st_uid}:{state.st_gid}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
