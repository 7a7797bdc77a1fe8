"""The worker pool: non-blocking batches in order, restarts, infrastructure failures kept apart from verdicts."""
import os
import signal
import time

import pytest
from exec_helpers import descendants, start_executor, task, zygotes

from murphy_jax.execution import InfraError

ADD = "def f(x):\n    return x + 1\n"


def test_submit_batch_returns_at_once_and_keeps_order():
    with start_executor() as ex:
        programs = [f"import time\ndef f(x):\n    time.sleep(0.05 * {i % 3})\n    return x + {i}\n" for i in range(8)]
        tasks = [task(f"assert f(1) == {1 + i}") for i in range(8)]
        fut = ex.submit_batch(programs, tasks)
        assert not fut.done()  # submission did not wait for the sandbox
        results = fut.result(timeout=120)
        assert [r.passed for r in results] == [True] * 8
        assert ex.layers and set(ex.layers.values()) == {"active"}
        single = ex.submit(ADD, task("assert f(1) == 2"))
        assert single.result(timeout=60).passed
    with pytest.raises(RuntimeError, match="closed"):
        ex.submit(ADD, task("assert f(1) == 2"))


def test_closing_leaves_no_process_behind():
    ex = start_executor()
    pids = [w.proc.pid for w in ex._workers]
    everything = set(pids).union(*(descendants(p) for p in pids))
    ex.close()
    ex.close()  # idempotent
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in everything):
        time.sleep(0.05)
    assert not [p for p in everything if os.path.exists(f"/proc/{p}")]


def test_a_dead_worker_is_replaced():
    with start_executor(workers=1) as ex:
        os.kill(ex._workers[0].proc.pid, signal.SIGKILL)
        assert ex.run(ADD, task("assert f(1) == 2")).passed


def _kill_all(pids) -> int:
    """SIGKILL each pid; returns how many were still alive (forked candidates die with their zygote)."""
    killed = 0
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def test_an_infrastructure_failure_mid_run_is_retried_not_judged():
    slow = "import time\ndef f(x):\n    time.sleep(0.5)\n    return x + 1\n"
    with start_executor(workers=1) as ex:
        fut = ex.submit(slow, task("assert f(1) == 2", "assert f(2) == 3"))
        time.sleep(0.3)
        assert _kill_all(zygotes(ex))  # the sandbox dies under the running job
        result = fut.result(timeout=60)
        assert result.passed  # re-run on a fresh sandbox, not turned into a failure


def test_without_retries_an_infrastructure_failure_raises():
    slow = "import time\ndef f(x):\n    time.sleep(0.5)\n    return x + 1\n"
    with start_executor(workers=1, job_retries=0) as ex:
        fut = ex.submit(slow, task("assert f(1) == 2", "assert f(2) == 3"))
        time.sleep(0.3)
        assert _kill_all(zygotes(ex))
        with pytest.raises(InfraError):
            fut.result(timeout=60)
        assert ex.run(ADD, task("assert f(1) == 2")).passed  # and the pool recovered


def test_runaway_test_code_cannot_hang_a_worker():
    """Trusted test code that never ends is stopped at the program deadline; the tests left are timeouts."""
    from murphy_jax.data.task import TestCase

    hang = "while True:\n    pass"
    inline = task("assert f(1) == 2", hang, "assert f(2) == 3")
    forked = task(TestCase(kind="pytest", name="test_ok"), TestCase(kind="pytest", name="test_hang"),
                  test_module="def test_ok():\n    assert f(1) == 2\ndef test_hang():\n    " + hang.replace("\n", "\n    ")
                  + "\n")
    with start_executor(program_timeout_s=1.0, wall_factor=1.0, wall_grace_s=0.5) as ex:
        a, b = ex.run_batch([ADD, ADD], [inline, forked])
        assert [o.status for o in a.outcomes] == ["passed", "timeout", "timeout"]
        assert [o.status for o in b.outcomes] == ["passed", "timeout"]
        assert ex.run(ADD, task("assert f(1) == 2")).passed


def test_jobs_of_every_kind_back_to_back_on_one_worker():
    """A forked (pytest) judge, a crash and respawn, stdio runs: one sandbox keeps its bookkeeping straight."""
    from murphy_jax.data.task import TestCase

    pytest_task = task(TestCase(kind="pytest", name="test_f"), test_module="def test_f():\n    assert f(1) == 2\n")
    crashy = "import os\ndef f(x):\n    if x == 0:\n        os._exit(1)\n    return x + 1\n"
    respawn = task("assert f(1) == 2", "assert f(0) == 1", "assert f(2) == 3")
    stdio = task(TestCase(kind="stdio", stdin="3\n", expected="4\n"), TestCase(kind="stdio", stdin="9\n", expected="10\n"),
                 io_mode="stdio", entry_point=None)
    with start_executor(workers=1) as ex:
        for _ in range(2):
            assert ex.run(ADD, pytest_task).passed
            assert [o.status for o in ex.run(crashy, respawn).outcomes] == ["passed", "runtime_error", "passed"]
            assert ex.run("print(int(input()) + 1)\n", stdio).passed
            assert ex.run("print(int(input()) + 2)\n", stdio).status == "failed"


def test_directories_of_killed_workers_are_swept_at_the_next_start(tmp_path, monkeypatch):
    # A SIGKILLed worker cannot remove its scratch; the next worker removes it (and only dead workers' ones).
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    dead = tmp_path / "murphy-sandbox-99999999-abc"
    (dead / "sub").mkdir(parents=True)
    (tmp_path / "murphy-judge-99999999-def").mkdir()
    alive = tmp_path / f"murphy-judge-{os.getpid()}-ghi"
    alive.mkdir()
    unrelated = tmp_path / "murphy-sandbox-notapid"
    unrelated.mkdir()
    ex = start_executor(workers=1)
    try:
        assert ex.run("def f():\n    return 1\n", task("assert f() == 1")).status == "passed"
        left = sorted(p.name for p in tmp_path.iterdir())
        assert not dead.exists() and "murphy-judge-99999999-def" not in left
        assert alive.exists() and unrelated.exists()
        # The running worker's own two directories, named with its pid.
        own = [n for n in left if n.startswith(("murphy-sandbox-", "murphy-judge-")) and n not in
               (alive.name, unrelated.name)]
        assert len(own) == 2 and len({n.split("-")[2] for n in own}) == 1
    finally:
        ex.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, unrelated.name])
