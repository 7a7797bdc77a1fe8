"""Preemption: SIGTERM/SIGINT stop murphy-train and murphy-eval within the grace period, exit 75, resume exactly."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from murphy_jax.errors import EXIT_PREEMPTED
from murphy_jax.train.metrics import read_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRACE_S = 10.0
_VOLATILE = ("time", "time/", "throughput/", "compile/")  # wall-clock fields and compile counts (a resumed run compiles again) differ by nature


def _env():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)  # one CPU device, as murphy-train runs for a user
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _train_cmd(workdir, policy):
    # The tiny SFT policy earns varied rewards on its 4 tasks at T=1.5, so steps 2 and 3 really move the parameters.
    # checkpoint.every=100: step 1 is on disk only if the preemption saves it.
    kv = {"model.path": policy, "data.train": f"jsonl:{policy}/tasks.jsonl", "prompts.system": "",
          "sampling.temperature": 1.5, "sampling.max_new_tokens": 40, "sampling.chunk": 4,
          "sampling.max_prompt_tokens": 470, "data.tasks_per_step": 4, "rollout.group_size": 4,
          "rollout.children": 2, "rollout.requests_per_chunk": 1, "rl.batch.buckets": "(512,)",
          "rl.batch.micro_batch_size": 4, "train.steps": 3, "optim.lr": 1e-3, "checkpoint.every": 100,
          "checkpoint.keep": 10, "train.export_hf": False, "log.tensorboard": False,
          "train.preempt_grace_s": GRACE_S}
    return [sys.executable, "-m", "murphy_jax.cli.train", "--config", os.path.join(REPO, "configs/tiny.py"),
            "--workdir", str(workdir)] + [f"--config.{k}={v}" for k, v in kv.items()]


class _Lines:
    """Collects a subprocess's output lines on a thread; ``wait_for`` blocks until a line contains a text."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._cv = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            with self._cv:
                self.lines.append(line)
                self._cv.notify_all()

    def wait_for(self, text, proc, timeout):
        deadline = time.time() + timeout
        with self._cv:
            while not any(text in line for line in self.lines):
                assert proc.poll() is None, f"ended before {text!r}:\n" + "".join(self.lines[-30:])
                assert time.time() < deadline, f"no {text!r} within {timeout}s"
                self._cv.wait(0.05)

    def text(self):
        with self._cv:
            return "".join(self.lines)


def _stable(records):
    return {r["step"]: {k: v for k, v in r.items() if not k.startswith(_VOLATILE)} for r in records}


def _params(workdir, step):
    import jax

    from murphy_jax.train.checkpoint import restore_params_numpy

    return [np.asarray(x) for x in jax.tree.leaves(restore_params_numpy(os.path.join(workdir, "checkpoints",
                                                                                      str(step))))]


def _steps_on_disk(workdir):
    return sorted(int(s) for s in os.listdir(os.path.join(workdir, "checkpoints")) if s.isdigit())


@pytest.mark.slow  # three real CLI runs (two side by side)
def test_sigterm_mid_rollout_exits_in_grace_and_resumes_exactly(tiny_sft_policy, tmp_path):
    ref_wd, wd = tmp_path / "uninterrupted", tmp_path / "preempted"
    # The uninterrupted baseline runs alongside (it shares nothing with the preempted run but the policy).
    ref_log = open(tmp_path / "uninterrupted.log", "w")  # a file, not a pipe nobody reads until the end
    ref = subprocess.Popen(_train_cmd(ref_wd, tiny_sft_policy), env=_env(), cwd=REPO, stdout=ref_log,
                           stderr=subprocess.STDOUT, text=True)
    ref_log.close()  # the child holds its own copy
    proc = subprocess.Popen(_train_cmd(wd, tiny_sft_policy), env=_env(), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = _Lines(proc.stdout)
    out.wait_for("step 2: rollout of", proc, timeout=600)  # logged as step 2's rollout starts
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=GRACE_S + 60)
    elapsed = time.monotonic() - t0
    text = out.text()
    assert rc == EXIT_PREEMPTED, text[-3000:]
    assert elapsed < GRACE_S, f"exited {elapsed:.1f}s after SIGTERM (grace {GRACE_S}s)"
    # Step 2 was abandoned, not finished; step 1 (not due until every=100) was saved for the resume.
    assert "step 2 abandoned" in text, text[-3000:]
    assert "murphy-train: preempted at step 1;" in text, text[-3000:]
    assert _steps_on_disk(wd) == [1]
    assert [r["step"] for r in read_jsonl(str(wd / "metrics.jsonl"))] == [1]

    res = subprocess.run(_train_cmd(wd, tiny_sft_policy), env=_env(), cwd=REPO, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "finished at step 3" in res.stdout
    assert ref.wait(timeout=600) == 0, (tmp_path / "uninterrupted.log").read_text()[-3000:]
    want, got = _stable(read_jsonl(str(ref_wd / "metrics.jsonl"))), _stable(read_jsonl(str(wd / "metrics.jsonl")))
    assert sorted(got) == [1, 2, 3] and got == want
    assert any(want[s].get("train/grad_norm", 0) > 0 for s in (2, 3)), "the resumed steps must really train"
    for a, b in zip(_params(ref_wd, 3), _params(wd, 3)):
        np.testing.assert_array_equal(a, b)


_STUCK = """
import sys, time
from murphy_jax.train.checkpoint import PreemptionFlag
flag = PreemptionFlag(float(sys.argv[1]), on_timeout=lambda: "resume from step 7").install()
print("ready", flush=True)
while True:
    time.sleep(0.01)  # like a long compiled call: the loop never reaches a host check
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_watchdog_ends_a_stuck_process_at_the_grace_period(sig):
    proc = subprocess.Popen([sys.executable, "-c", _STUCK, "2"], env=_env(), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    elapsed = time.monotonic() - t0
    assert proc.returncode == EXIT_PREEMPTED
    assert 1.5 <= elapsed < 2.0 + 1.0, elapsed  # fires shortly before the 2 s deadline
    assert "preempted (grace period of 2s ran out): resume from step 7" in err


def test_second_signal_exits_at_once():
    proc = subprocess.Popen([sys.executable, "-c", _STUCK, "60"], env=_env(), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_PREEMPTED and time.monotonic() - t0 < 5
    assert "preempted (second SIGINT): resume from step 7" in err


def _eval_cmd(policy, out, prompts):
    return [sys.executable, "-m", "murphy_jax.cli.eval", "--model", policy, "--benchmark", "bundled:heldout",
            "--limit", "6", "--batch-tasks", "1", "--iters", "2", "--max-new-tokens", "48",
            "--executor-workers", "1", "--prompts", str(prompts), "--out", str(out)]


def _records(path):
    recs = [json.loads(line) for line in open(path) if line.strip()]
    return {r["task_id"]: (r["solved_at"], [[(a["code"], a["status"]) for a in c] for c in r["chains"]])
            for r in recs}


@pytest.mark.slow  # three real CLI runs (two side by side)
def test_eval_sigterm_keeps_finished_tasks_and_rerun_completes_identically(tiny_sft_policy, tmp_path):
    nosys = tmp_path / "nosys.json"  # the tiny policy was warmed without a system prompt
    nosys.write_text(json.dumps({"system": ""}))
    ref_out, out = tmp_path / "ref", tmp_path / "out"
    ref_log = open(tmp_path / "ref.log", "w")
    ref = subprocess.Popen(_eval_cmd(tiny_sft_policy, ref_out, nosys), env=_env(), cwd=REPO, stdout=ref_log,
                           stderr=subprocess.STDOUT, text=True)
    ref_log.close()  # the child holds its own copy
    proc = subprocess.Popen(_eval_cmd(tiny_sft_policy, out, nosys), env=_env(), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = _Lines(proc.stdout)
    name = os.path.basename(str(tiny_sft_policy).rstrip("/")) + ".jsonl"  # partial results are named by label
    partial = out / "partial" / name
    deadline = time.time() + 600
    while not (partial.exists() and partial.read_text().count("\n") >= 1):
        assert proc.poll() is None, lines.text()[-3000:]
        assert time.time() < deadline
        time.sleep(0.05)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=60)
    assert rc == EXIT_PREEMPTED, lines.text()[-3000:]
    assert time.monotonic() - t0 < 30  # murphy-eval's default grace period
    kept = _records(partial)
    assert 1 <= len(kept) < 6
    assert f"murphy-eval: preempted: {len(kept)} of 6 tasks evaluated" in lines.text(), lines.text()[-3000:]
    assert not (out / "report.json").exists()

    res = subprocess.run(_eval_cmd(tiny_sft_policy, out, nosys), env=_env(), cwd=REPO, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.load(open(out / "report.json"))["models"][0]
    assert report["timings"]["tasks_resumed"] == len(kept)
    assert ref.wait(timeout=600) == 0, (tmp_path / "ref.log").read_text()[-3000:]
    ref_report = json.load(open(ref_out / "report.json"))["models"][0]
    assert report["pass_at_1"] == ref_report["pass_at_1"]
    assert _records(partial) == _records(ref_out / "partial" / name)


def test_rollout_abandons_while_waiting_for_the_executor_and_cancels_its_queue():
    """A stop while programs run raises Preempted at once; the queued programs never run (the executor is free)."""
    from murphy_jax.data.bundled import load_bundled
    from murphy_jax.execution import Executor, ExecutorConfig
    from murphy_jax.rollout import RolloutConfig, ScriptedGenerator, run_rollout
    from murphy_jax.train.checkpoint import Preempted, PreemptionFlag

    tasks = load_bundled("train")[:4]
    slow = "import time\ntime.sleep(0.3)\n"  # every test of every program pays it: 16 programs take minutes
    gen = ScriptedGenerator(lambda req, k: f"```python\n{slow}{req.task.reference_solution}\n```")
    flag = PreemptionFlag(60)
    polls = []

    def check():
        polls.append(time.monotonic())
        if len(polls) == 20:  # some 0.2 s into the wait for the first programs
            flag.request()
        flag.check()

    with Executor(ExecutorConfig(workers=1)) as ex:
        t0 = time.monotonic()
        with pytest.raises(Preempted):
            run_rollout(tasks, gen, ex, RolloutConfig(group_size=4, turns=1), check=check)
        assert time.monotonic() - t0 < 5
        t1 = time.monotonic()
        (res,) = ex.run_batch([tasks[0].reference_solution], [tasks[0]])
        assert res.passed and time.monotonic() - t1 < 15  # at most the one program already running was ahead
    flag.uninstall()


def test_generation_checks_between_decode_chunks(tiny_sft_policy):
    """The sampler calls the host check before prefill and after every ``chunk`` decode steps; raising stops it."""
    import jax.numpy as jnp

    from murphy_jax.models import from_pretrained
    from murphy_jax.sampling import Sampler, SamplingParams, host_check

    model = from_pretrained(tiny_sft_policy, dtype=jnp.float32)
    # An end id the policy does not know as one: every row decodes all 32 tokens (8 chunks of 4).
    sampler = Sampler(model.config, eos_token_ids=[model.config.vocab_size - 1], chunk=4)
    sp = SamplingParams(n=2, max_new_tokens=32, temperature=1.0, seed=0)
    calls = []

    def count():
        calls.append(1)

    sampler.generate(model.params(), [[5, 6, 7]], sp)
    assert not calls  # no check outside a host_check context
    with host_check(count):
        sampler.generate(model.params(), [[5, 6, 7]], sp)
    assert len(calls) == 1 + 8  # before prefill, then before each decode chunk (the first token comes from prefill)

    class Stop(Exception):
        pass

    def stop_at_third():
        calls.append(1)
        if len(calls) == 3:
            raise Stop

    calls.clear()
    with host_check(stop_at_third), pytest.raises(Stop):
        sampler.generate(model.params(), [[5, 6, 7]], sp)
    assert len(calls) == 3
