"""The executor starts on a host with mounts below the directory its sandbox root is built over (issue 21).

The sandbox assembles its root on a tmpfs mounted over ``nsboot.NEW_ROOT`` (/tmp), which
hides any host mount below that directory; such mounts must be ignored, while every mount the
sandbox can still reach (exposed paths and what is mounted inside them) stays read-only. Each
test runs the executor in a private mount namespace (``unshare -m``) so the mounts it makes
never reach the host; the host only sees an empty directory, removed afterwards.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
from exec_helpers import SMALL

from murphy_jax.execution.sandbox.nsboot import NEW_ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Runs inside the private mount namespace: builds the mounts, starts the executor (canary included),
# runs a passing program and a probe that tries to reach and write every mount, and reports as JSON.
SCRIPT = r'''
import json, os, subprocess, sys
from murphy_jax.execution import Executor, ExecutorConfig, InfraError
from murphy_jax.execution.sandbox import nsboot
from murphy_jax.data.task import CodeTask, TestCase

args = json.loads(sys.argv[1])
base = args["base"]

def tmpfs(path, marker):
    os.makedirs(path, exist_ok=True)
    nsboot.mount("tmpfs", path, "tmpfs", 0, "size=1m")
    with open(os.path.join(path, "marker"), "w") as f:
        f.write(marker)

nsboot.mount(None, "/", None, nsboot.MS_REC | nsboot.MS_PRIVATE)
tmpfs(base, "base")  # everything below lives only in this namespace
hidden = {"plain": base + "/plain", "nested": base + "/plain/nested", "under TMPDIR": base + "/tmpdir/mnt",
          "bind": base + "/bound"}
if args["odd"]:  # mountinfo writes these as \040, \011, \134
    hidden["odd name"] = base + "/with space\\and\ttab"
for name, path in hidden.items():
    if name != "bind":
        tmpfs(path, "secret " + name)
os.makedirs(base + "/src")
with open(base + "/src/marker", "w") as f:
    f.write("secret bind")
os.makedirs(base + "/bound")
nsboot.mount(base + "/src", base + "/bound", None, nsboot.MS_BIND)
if args["odd"]:  # a name that is not UTF-8 (mountinfo is bytes, not text)
    bad = os.fsencode(base) + b"/bad\xff"
    os.mkdir(bad)
    nsboot.mount("tmpfs", bad, "tmpfs", 0, "size=1m")
# Exposed to the sandbox, with a nested mount and two mounts stacked on one point (the lower one hidden).
exposed = base + "/exposed"
tmpfs(exposed, "exposed")
tmpfs(exposed + "/inner", "inner")
tmpfs(exposed + "/stacked", "lower (hidden)")
tmpfs(exposed + "/stacked", "stacked")
os.environ["TMPDIR"] = base + "/tmpdir"
visible = {"exposed": exposed, "inner": exposed + "/inner", "stacked": exposed + "/stacked"}
if args["odd"]:  # visible, so it must be found under its escaped name and sealed
    visible["odd inner"] = exposed + "/sp ace\\back\tslash"
    tmpfs(visible["odd inner"], "odd inner")

PROBE = """
import errno, os
def probe(visible, hidden):
    out = {}
    for name, path in visible.items():
        try:
            marker = open(os.path.join(path, "marker")).read()
        except OSError as e:
            marker = type(e).__name__
        try:
            open(os.path.join(path, "probe"), "w").write("x")
            wrote = "wrote"
        except OSError as e:
            wrote = errno.errorcode.get(e.errno, str(e.errno))
        out[name] = [marker, wrote]
    for name, path in hidden.items():
        out[name] = os.path.exists(os.path.join(path, "marker"))
    return out
"""
want = {name: [name, "EROFS"] for name in visible}
want.update({name: False for name in hidden})
task = CodeTask(task_id="mounts", prompt="probe", entry_point="probe",
                public_tests=(TestCase(kind="call", args=[visible, hidden], expected=want),))
add = CodeTask(task_id="add", prompt="add", entry_point="add",
               public_tests=(TestCase(kind="assert", code="assert add(1, 2) == 3"),))
out = {}
try:
    with Executor(ExecutorConfig(**args["config"], workers=1, expose_paths=(exposed,))) as ex:
        out["layers"] = ex.layers
        out["add"] = ex.run("def add(a, b):\n    return a + b\n", add).status
        r = ex.run(PROBE, task)
        out["probe"] = [r.status, r.outcomes[0].message, r.outcomes[0].actual]
except InfraError as e:
    out["error"] = str(e)
out["left"] = {name: sorted(os.listdir(path)) for name, path in {**visible, **hidden}.items()}
with open(args["task"], "w") as f:
    f.write(add.to_json())
with open(args["solution"], "w") as f:
    f.write("def add(a, b):\n    return a + b\n")
cli = subprocess.run([sys.executable, "-m", "murphy_jax.cli.exec", "--task", args["task"], "--solution",
                      args["solution"]], capture_output=True, text=True, timeout=120)
out["cli"] = [cli.returncode, cli.stderr[-2000:]]
print(json.dumps(out))
'''


def _can_unshare() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create a mount namespace here: {probe.stderr.strip()}"
    return None


@pytest.mark.parametrize("odd", [False, True], ids=["tmpfs-bind-nested", "odd-names"])
def test_host_mounts_below_the_sandbox_root_are_harmless(tmp_path, odd):
    """Covered host mounts (tmpfs, bind, nested, below TMPDIR, odd names) are harmless; exposed ones stay read-only."""
    why = _can_unshare()
    if why:
        pytest.skip(why)
    # Below the directory the sandbox mounts its root over; the host only ever sees this empty directory.
    base = tempfile.mkdtemp(prefix="murphy-hostmnt-", dir=NEW_ROOT)
    try:
        args = {"base": base, "odd": odd, "config": SMALL, "task": str(tmp_path / "task.json"),
                "solution": str(tmp_path / "sol.py")}
        proc = subprocess.run(["unshare", "-m", sys.executable, "-c", SCRIPT, json.dumps(args)], cwd=ROOT,
                              capture_output=True, text=True, timeout=240)
        assert os.listdir(base) == []  # nothing leaked out of the namespace
    finally:
        os.rmdir(base)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out.get("error", "").startswith("required isolation layer(s) unavailable: userns"):
        pytest.skip(f"no user namespaces on this machine: {out['error']}")  # the mounts only ever cost fs
    assert "error" not in out, out["error"]
    assert set(out["layers"].values()) == {"active"}, out["layers"]
    assert out["add"] == "passed"
    # Exposed mounts (and the one stacked on top) are readable and refuse writes; covered ones are unreachable.
    assert out["probe"][0] == "passed", out["probe"]
    assert all("probe" not in names for names in out["left"].values()), out["left"]
    assert out["cli"][0] == 0, out["cli"][1]
