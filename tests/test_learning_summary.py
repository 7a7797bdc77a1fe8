"""scripts/learning_experiment.py: mean and spread over seeds, the table, and the plot of the modes that ran."""
import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def le():
    spec = importlib.util.spec_from_file_location("learning_experiment",
                                                  os.path.join(REPO, "scripts", "learning_experiment.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RESULTS = {
    "start_s0": {"greedy": [0.2, 0.2, 0.25]},
    "mars_s0": {"greedy": [0.25, 0.3, 0.3], "generated_tokens": 9000},
    "mars_s1": {"greedy": [0.15, 0.2, 0.3], "generated_tokens": 11000},
    "grpo_s0": {"greedy": [0.2, 0.2, 0.2], "generated_tokens": 8800},
}


def test_summary_is_mean_and_range_over_seeds(le):
    s = le.summarize(RESULTS)
    assert sorted(s) == ["grpo/greedy", "mars/greedy", "start/greedy"]  # no sampled mode ran
    assert s["mars/greedy"] == {"mean": [20.0, 25.0, 30.0], "min": [15.0, 20.0, 30.0], "max": [25.0, 30.0, 30.0],
                                "seeds": 2}
    assert s["start/greedy"]["seeds"] == 1


def test_table_and_greedy_only_plot(le, tmp_path):
    s = le.summarize(RESULTS)
    md = le.table(s, {"mars": [9000, 11000], "grpo": [8800]})
    assert "| mars | greedy | 20.0 (15.0-25.0) | 25.0 (20.0-30.0) | 30.0 (30.0-30.0) | 2 | 10,000 |" in md
    assert "| start | greedy | 20.0 (20.0-20.0) | 20.0 (20.0-20.0) | 25.0 (25.0-25.0) | 1 | - |" in md
    path = tmp_path / "p.png"
    le.plot(s, str(path))
    from PIL import Image

    w, h = Image.open(path).size
    assert w < 1.2 * h * 5 / 3.8 and path.stat().st_size > 10_000  # one panel (greedy), not two


def _report(path, checkpoint, pass_at_1):
    import json

    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "report.json"), "w") as f:
        json.dump({"models": [{"config": {"model": {"checkpoint": checkpoint}}, "pass_at_1": pass_at_1}]}, f)


def test_evaluation_of_a_grown_run_is_redone_not_reused(le, tmp_path, monkeypatch):
    import argparse

    out = str(tmp_path)
    args = argparse.Namespace(max_new_tokens=160, stop=True, eval_limit=24)
    ran = []

    def fake_sh(cmd, log):  # stands in for the murphy-eval subprocess: writes the report it would
        ran.append(cmd)
        _report(cmd[cmd.index("--out") + 1], cmd[cmd.index("--model") + 1] + "/checkpoints/6", [0.5])

    monkeypatch.setattr(le, "sh", fake_sh)
    _report(os.path.join(out, "eval", "mars_s0_n1"), f"{out}/mars_s0/checkpoints/3", [0.25])
    assert le.evaluate(out, "mars_s0", f"{out}/mars_s0", 1, 0.0, args, 3)["pass_at_1"] == [0.25]
    assert not ran  # same checkpoint: reused
    assert le.evaluate(out, "mars_s0", f"{out}/mars_s0", 1, 0.0, args, 6)["pass_at_1"] == [0.5]
    assert len(ran) == 1 and os.path.exists(os.path.join(out, "eval", "mars_s0_n1.step3", "report.json"))
