"""Isolation layers: each can be turned off and verdicts stay right; a missing one fails loudly unless allowed."""
import os
import shutil
import subprocess
import sys

import pytest
from exec_helpers import task

from murphy_jax.execution import LAYERS, Executor, ExecutorConfig
from murphy_jax.execution.humaneval import humaneval_tasks

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROBE = '''
import json, os, sys
sys.path.insert(0, {root!r})
from murphy_jax.execution import Executor, ExecutorConfig, InfraError
from murphy_jax.execution.humaneval import humaneval_tasks
out = {{"uid": os.getuid()}}
try:
    Executor(ExecutorConfig(workers=1))
    out["strict"] = "started"
except InfraError as e:
    out["strict"] = str(e)
t = humaneval_tasks()[0]
with Executor(ExecutorConfig(workers=1, allow_degraded=True)) as ex:
    out["layers"] = ex.layers
    out["good"] = ex.run(t.reference_solution, t).status
    out["bad"] = ex.run(t.prompt + "    return True\\n", t).status
print(json.dumps(out))
'''


def _probe(prefix):
    code = PROBE.format(root=ROOT)
    out = subprocess.run(prefix + [sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    import json
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("off", [("userns",), ("pidns",), ("fs",), ("netns",), ("rlimits",), ("audit",), LAYERS])
def test_verdicts_do_not_depend_on_the_layers(off):
    needs = {"userns": {"pidns", "netns", "fs"}, "pidns": {"fs"}}
    dropped = set(off).union(*(needs.get(layer, set()) for layer in off))
    cfg = ExecutorConfig(workers=1, disable_layers=off, require_layers=tuple(x for x in LAYERS if x not in dropped))
    tasks = humaneval_tasks()[:12]
    with Executor(cfg) as ex:
        assert all(ex.layers[layer] == "disabled" for layer in off)
        results = ex.run_batch([t.reference_solution for t in tasks], tasks)
        assert [r.passed for r in results] == [True] * len(tasks)
        assert ex.run("def f(x):\n    return 0\n", task("assert f(1) == 2")).status == "failed"
        assert ex.run("def f(x):\n    while True:\n        pass\n", task("assert f(1) == 2")).status == "timeout"


@pytest.mark.skipif(os.geteuid() != 0 or not hasattr(os, "unshare") and not shutil.which("unshare"),
                    reason="needs root to build a user namespace that forbids further user namespaces")
def test_unavailable_layers_fail_loudly_unless_degrading_is_allowed():
    out = _probe([sys.executable, os.path.join(HERE, "without_userns.py")])
    assert "required isolation layer(s) unavailable" in out["strict"] and "userns" in out["strict"]
    assert out["layers"]["userns"].startswith("unavailable") and out["layers"]["rlimits"] == "active"
    assert (out["good"], out["bad"]) == ("passed", "failed")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root and util-linux unshare to run the executor as an ordinary uid")
def test_an_unprivileged_user_gets_every_layer():
    out = _probe(["unshare", "--user", "--map-user=1000", "--map-group=1000"])
    assert out["uid"] == 1000 and out["strict"] == "started"
    assert set(out["layers"].values()) == {"active"} and (out["good"], out["bad"]) == ("passed", "failed")
