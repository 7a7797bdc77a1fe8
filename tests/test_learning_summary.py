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
