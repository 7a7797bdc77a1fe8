"""The feasibility probe: its counts, rates, interval, pool and resumption, through the real executor."""
import json
import os
import subprocess
import sys

import pytest

from murphy_jax.data.bundled import load_bundled
from murphy_jax.eval import probe
from murphy_jax.rollout import ScriptedGenerator


def fenced(code: str) -> str:
    return f"```python\n{code}\n```\n"


@pytest.fixture(scope="module")
def three_tasks():
    tasks = load_bundled("train")[:3]
    assert all(t.reference_solution for t in tasks)
    return tasks


def scripted(tasks, calls=None):
    """Task 0: half of the first attempts right, every refinement right; task 1: only refinements right;
    task 2: never right. A fresh attempt behaves like a first attempt."""
    a, b = tasks[0].task_id, tasks[1].task_id

    def respond(req, k):
        if calls is not None:
            calls.append((req.task.task_id, req.turn))
        tid = req.task.task_id
        right = (tid == a and k % 2 == 0) if req.turn == 1 else tid in (a, b)
        return fenced(req.task.reference_solution if right else "pass")

    return ScriptedGenerator(respond)


def test_counts_rates_gain_and_pool(executor, three_tasks):
    rows = probe.probe_tasks(three_tasks, scripted(three_tasks), executor, n=8, k=4, fresh=8, batch_tasks=2)
    got = [(r.attempts, r.passed, r.refine_trials, r.refine_passed, r.fresh_trials, r.fresh_passed) for r in rows]
    assert got == [(8, 4, 16, 16, 8, 4), (8, 0, 32, 32, 8, 0), (8, 0, 32, 0, 8, 0)]
    s = probe.summarize(rows)
    o = s["overall"]
    assert o["first_attempt_pass_rate"] == pytest.approx(4 / 24)
    assert o["refinement_success"] == pytest.approx(48 / 80)
    # Fresh-attempt control weighted by failed attempts: (4 * 0.5 + 8 * 0 + 8 * 0) / 20.
    assert o["fresh_success"] == pytest.approx(0.1)
    g = s["feedback_gain"]
    assert g["gain"] == pytest.approx(0.5) and g["ci95"][0] <= 0.5 <= g["ci95"][1]
    assert s["pool"]["task_ids"] == [three_tasks[0].task_id]
    table = probe.markdown(s)
    assert "| **all** | 3 | 16.7% | 20 | 60.0% (80) | 10.0% (24) |" in table and "+50.0 points" in table


def test_resumes_without_resampling_done_tasks(executor, three_tasks, tmp_path):
    path, ident = str(tmp_path / "partial.jsonl"), {"model": "scripted"}
    first = probe.probe_tasks(three_tasks[:2], scripted(three_tasks), executor, n=2, k=1, fresh=2, batch_tasks=1,
                              on_batch=lambda rows: probe.append_partial(path, ident, rows))
    done = probe.load_partial(path, ident)
    assert sorted(done) == sorted(t.task_id for t in three_tasks[:2])
    assert probe.load_partial(path, {"model": "other"}) == {}  # another setting's results are never reused
    calls = []
    rows = probe.probe_tasks(three_tasks, scripted(three_tasks, calls), executor, n=2, k=1, fresh=2, done=done)
    assert {tid for tid, _ in calls} == {three_tasks[2].task_id}
    assert rows[:2] == first


def test_bad_arguments_are_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "murphy_jax.cli.probe", "--model", "x", "--temperature", "0",
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "--temperature must be > 0" in r.stderr
    assert not os.path.exists(tmp_path / "o")


def test_cli_on_a_tiny_policy_writes_report_and_pool(tiny_policy_dir, tmp_path):
    out = tmp_path / "probe"
    cmd = [sys.executable, "-m", "murphy_jax.cli.probe", "--model", tiny_policy_dir, "--benchmark", "bundled:train",
           "--limit", "2", "--n", "2", "--k", "1", "--fresh-n", "2", "--max-new-tokens", "8", "--batch-tasks", "1",
           "--executor-workers", "1", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    data = json.load(open(out / "probe.json"))
    assert [t["attempts"] for t in data["per_task"]] == [2, 2]
    assert data["summary"]["overall"]["tasks"] == 2 and (out / "probe.md").exists() and (out / "pool.jsonl").exists()
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "2 task(s) already probed" in again.stderr
    assert json.load(open(out / "probe.json"))["per_task"] == data["per_task"]
