"""The demo's whole path (eval -> MURPHY training -> eval -> transformers load) on a tiny policy, CI-sized."""
import json
import os

from murphy_jax.cli.demo import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_path_on_tiny_policy(tiny_sft_policy, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("XLA_FLAGS", raising=False)  # subprocesses see one CPU device, like a laptop
    wd = tmp_path / "demo"
    args = ["--workdir", str(wd), "--model", tiny_sft_policy, "--steps", "1", "--tasks-per-step", "2",
            "--eval-tasks", "2", "--max-new-tokens", "24",
            "--extra", "prompts.system=", "--extra", "sampling.temperature=1.5", "--extra", "rollout.group_size=2",
            "--extra", "executor.workers=1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "[demo 5/5]" in out and "transformers generated:" in out
    report = json.load(open(wd / "eval" / "report.json"))
    assert [m["label"] for m in report["models"]] == ["start", "trained"]
    assert all(len(m["pass_at_1"]) == 3 for m in report["models"])
    assert (wd / "eval" / "pass_at_1.png").exists()
    assert (wd / "train" / "checkpoints" / "1").exists() and any((wd / "train" / "tb").iterdir())
    assert (wd / "train" / "hf_export" / "config.json").exists()
    # Rerunning resumes: nothing is trained or evaluated again.
    partial = {p.name: p.read_text() for p in (wd / "eval" / "partial").iterdir()}
    assert main(args) == 0
    assert "[demo 5/5]" in capsys.readouterr().out
    assert len((wd / "train" / "metrics.jsonl").read_text().splitlines()) == 1
    assert {p.name: p.read_text() for p in (wd / "eval" / "partial").iterdir()} == partial
