"""The fake-gcloud world shared by the launch/tpu.py tests (see test_tpu_launch.py for what it proves)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
TPU = REPO / "launch" / "tpu.py"
ZONE = "us-east5-b"
TPU_VM = ["compute", "tpus", "tpu-vm"]
QR = ["compute", "tpus", "queued-resources"]
DESCRIBE = TPU_VM + ["describe", "t1", f"--zone={ZONE}", "--format=json"]

FAKE_GCLOUD = r'''#!{python} -S
import json, os, sys
argv = sys.argv[1:]
rec = {"argv": argv}
if argv[:4] == ["compute", "tpus", "tpu-vm", "scp"] and os.path.isfile(argv[4]):
    src = argv[4]
    rec["src_mode"] = oct(os.stat(src).st_mode & 0o777)
    if src.endswith(".tar.gz"):
        import tarfile
        with tarfile.open(src) as t:
            rec["tar_members"] = sorted(m.name for m in t.getmembers() if m.isfile())
    else:
        rec["src_text"] = open(src).read()
fd = os.open(os.environ["FAKE_GCLOUD_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
os.write(fd, (json.dumps(rec) + "\n").encode())
os.close(fd)
worker = next((a.split("=", 1)[1] for a in argv if a.startswith("--worker=")), None)
if worker is not None and worker in os.environ.get("FAKE_GCLOUD_FAIL_WORKERS", "").split(","):
    sys.stderr.write("ssh: connect to host tpu-worker-%s port 22: Connection timed out\n" % worker)
    sys.exit(1)
if "describe" in argv and "--format=json" in argv:
    if "queued-resources" in argv:
        states = os.environ.get("FAKE_GCLOUD_QR_STATES", "ACTIVE").split(",")
        counter = os.environ["FAKE_GCLOUD_LOG"] + ".qr"
        i = int(open(counter).read()) if os.path.exists(counter) else 0
        open(counter, "w").write(str(i + 1))
        print(json.dumps({"name": argv[4], "state": {"state": states[min(i, len(states) - 1)]}}))
    else:
        n = int(os.environ.get("FAKE_GCLOUD_WORKERS", "4"))
        print(json.dumps({
            "name": argv[4], "state": os.environ.get("FAKE_GCLOUD_STATE", "READY"),
            "health": "HEALTHY", "acceleratorType": "v5litepod-16",
            "runtimeVersion": "v2-alpha-tpuv5-lite",
            "networkEndpoints": [{"ipAddress": "10.0.0.%d" % i, "port": 8470} for i in range(n)]}))
    sys.exit(0)
if "ssh" in argv and os.environ.get("FAKE_GCLOUD_SSH_OUT"):
    print(os.environ["FAKE_GCLOUD_SSH_OUT"].replace("{worker}", worker or "?"))
'''


def make_world(tmp_path):
    """A fake-gcloud world: bin dir on PATH, call log, and a HOME that already has a gcloud key."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    gcloud = bindir / "gcloud"
    gcloud.write_text(FAKE_GCLOUD.replace("{python}", sys.executable))
    gcloud.chmod(0o755)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "google_compute_engine").write_text("key")
    log = tmp_path / "gcloud.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MURPHY_TPU_", "FAKE_GCLOUD_"))}
    env.update(PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}", HOME=str(home),
               FAKE_GCLOUD_LOG=str(log))

    class World:
        pass

    w = World()
    w.env, w.log, w.home, w.tmp = env, log, home, tmp_path

    def run(*args, env=None, input=None):
        # -S (no site-packages) also proves that the CLI needs only the standard library.
        e = dict(w.env, **(env or {}))
        return subprocess.run([sys.executable, "-S", str(TPU), *args], env=e, input=input,
                              capture_output=True, text=True, timeout=60)

    def calls():
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    w.run, w.calls = run, calls
    w.argvs = lambda: [c["argv"] for c in calls()]
    return w


def by_worker(argvs):
    """Per-worker ordered command lists (parallel workers interleave in the log)."""
    out = {}
    for a in argvs:
        ws = [x for x in a if x.startswith("--worker=")]
        if ws:
            out.setdefault(int(ws[0].split("=")[1]), []).append(a)
    return out


def command_of(argv):
    assert argv[-1].startswith("--command="), argv
    return argv[-1][len("--command="):]


def ssh_prefix(worker):
    return TPU_VM + ["ssh", "t1", f"--zone={ZONE}", f"--worker={worker}"]


def git_repo(root: Path) -> Path:
    root.mkdir()
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "run.py").write_text("print('committed')\n")
    (root / "configs").mkdir()
    (root / "configs" / "tiny.py").write_text("def get_config(): pass\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "init"], check=True)
    (root / "junk.txt").write_text("untracked")           # must not be shipped
    (root / "run.py").write_text("print('uncommitted')\n")  # nor this edit
    return root
