"""Fault injection on the pool (issue 21): a worker process SIGKILLed in the middle of a batch.

A killed worker's job is re-run on a fresh worker, the batch completes with exactly the
verdicts of an undisturbed run, and the re-run is counted (``Executor.infra_retries``). A
worker that dies on every attempt ends in one InfraError after ``job_retries`` re-runs, and
the pool keeps serving other jobs.
"""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from exec_helpers import descendants, start_executor, task, zygotes

from murphy_jax.execution import InfraError

ADD = "def f(x):\n    return x + 1\n"
# Slow but correct: each test sleeps, so a worker is caught in the middle of it.
SLOW = "import time\ndef f(x):\n    time.sleep(0.4)\n    return x + 1\n"
PROGRAMS = [
    SLOW, SLOW,
    ADD,
    "def f(x):\n    return x\n",  # wrong answer
    "def f(x):\n    return 1 / 0\n",  # runtime error
    "def f(x):\n    while True:\n        pass\n",  # timeout (1 s of CPU per test with the small limits)
    SLOW,
    "def f(x)\n    return x\n",  # syntax error
    "def f(x):\n    return x + 1 if x < 2 else 0\n",  # one test of two
    ADD, SLOW, ADD,
]


def _tasks():
    return [task("assert f(1) == 2", private=["assert f(2) == 3"], task_id=f"t{i}") for i in range(len(PROGRAMS))]


def _verdicts(results) -> list:
    # A timeout's message names the limit that fired first (CPU budget or wall-clock backstop), which
    # depends on the machine's load, not on the verdict.
    return [(r.task_id, r.status, [(o.status, "" if o.status == "timeout" else o.message, o.actual)
                                   for o in r.outcomes]) for r in results]


def _children(pid: int) -> set:
    return descendants(pid) - set().union(*(descendants(k) for k in descendants(pid)))


def _zygote(w, ex):
    """The worker's sandbox zygote (boot.py): killing it takes the whole sandbox down."""
    if w.proc is None:
        return None
    boots = [z for z in _children(w.proc.pid) if z in set(zygotes(ex))]
    return boots[0] if boots else None


def _running_candidate(ex):
    """(worker index, candidate pid) of a worker that has been running the same candidate for a while."""
    seen: dict = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for i, w in enumerate(ex._workers):
            boot = _zygote(w, ex)
            if boot is None:
                continue
            # worker -> boot (zygote) -> forker (the namespace's init) -> candidate
            kids = set().union(*(_children(forker) for forker in _children(boot)))
            for pid in kids:
                if seen.get(pid) == i:
                    return i, pid
            seen.update({pid: i for pid in kids})
        time.sleep(0.15)  # a candidate alive across two looks is in a slow test, not between jobs
    raise AssertionError("no worker was seen running a program")


@pytest.mark.parametrize("target", ["worker", "sandbox"])
def test_a_process_killed_mid_batch_is_retried_and_verdicts_are_unchanged(target):
    with start_executor(workers=2) as ex:
        tasks = _tasks()
        undisturbed = _verdicts(ex.run_batch(PROGRAMS, tasks))
        assert {v[1] for v in undisturbed} == {"passed", "failed", "runtime_error", "timeout", "syntax_error"}
        assert ex.infra_retries == 0
        fut = ex.submit_batch(PROGRAMS, tasks)
        index, candidate = _running_candidate(ex)
        victim = ex._workers[index].proc.pid if target == "worker" else _zygote(ex._workers[index], ex)
        os.kill(victim, signal.SIGKILL)
        results = fut.result(timeout=120)
        assert not os.path.exists(f"/proc/{candidate}")  # the program it was running died with it
        assert _verdicts(results) == undisturbed
        assert ex.infra_retries == 1
        if target == "worker":
            assert ex._workers[index].proc.pid != victim  # replaced, not resurrected
            # its replacement removed the scratch and judge directories the killed worker could not
            assert not glob.glob(os.path.join(tempfile.gettempdir(), f"murphy-*-{victim}-*"))
        assert set(ex.layers.values()) == {"active"}
        assert ex.run(ADD, tasks[0]).passed


def test_a_worker_that_keeps_dying_fails_with_one_clear_infra_error():
    # Test code is trusted and runs in the worker (the judge), so this kills the worker on every attempt.
    poison = task("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", task_id="poison")
    with start_executor(workers=1, job_retries=2) as ex:
        t0 = time.monotonic()
        fut = ex.submit_batch([ADD, ADD], [poison, task("assert f(1) == 2")])
        with pytest.raises(InfraError) as info:
            fut.futures[0].result(timeout=120)
        assert fut.futures[1].result(timeout=60).passed  # the next job in the batch still runs
        assert time.monotonic() - t0 < 60
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith("poison: the executor failed 3 time(s)") and "killed by SIGKILL" in message
        assert ex.infra_retries == 2
        assert ex.run(ADD, task("assert f(1) == 2")).passed


# Runs as root of a user namespace mapping host uids 0-65535 (so the executor works as it does as real root);
# after the executor has started, user namespaces are forbidden there, as if the host had changed under it.
LOSE_USERNS = r'''
import ctypes, json, os, signal, sys
r, w = os.pipe()
go_r, go_w = os.pipe()
pid = os.fork()
if pid:
    os.read(r, 1)
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write("0 0 65536")
    os.write(go_w, b"x")
    sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:  # CLONE_NEWUSER
    os._exit(97)
os.write(w, b"x")
os.read(go_r, 1)
sys.path.insert(0, sys.argv[1])
from exec_helpers import SMALL, task, zygotes
from murphy_jax.execution import Executor, ExecutorConfig, InfraError

def attempt(ex):
    try:
        return ex.run("def f(x):\n    return x + 1\n", task("assert f(1) == 2")).status
    except InfraError as e:
        return "InfraError: " + str(e)

out = {}
with Executor(ExecutorConfig(**SMALL, workers=1)) as ex:
    out["layers"] = ex.layers
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    for z in zygotes(ex):  # the sandbox dies; its worker lives on and restarts it
        os.kill(z, signal.SIGKILL)
    out["sandbox"] = attempt(ex)
    os.kill(ex._workers[0].proc.pid, signal.SIGKILL)  # the worker dies; the executor restarts it
    out["worker"] = attempt(ex)
print(json.dumps(out))
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to build a user namespace mapping the sandbox uid")
def test_a_restart_that_loses_isolation_layers_is_an_infra_error_not_a_degraded_run():
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run([sys.executable, "-c", LOSE_USERNS, here], capture_output=True, text=True, timeout=240,
                          cwd=os.path.dirname(os.path.dirname(here)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(out["layers"].values()) == {"active"}, out["layers"]
    assert out["sandbox"].startswith("InfraError: t: the executor failed 2 time(s)"), out["sandbox"]
    assert "the sandbox restarted with different isolation layers (userns: unavailable" in out["sandbox"]
    assert out["worker"].startswith("InfraError: t: the executor failed 2 time(s)"), out["worker"]
    assert "a restarted worker lacks isolation layer(s) the executor started with: userns: unavailable" \
        in out["worker"]
