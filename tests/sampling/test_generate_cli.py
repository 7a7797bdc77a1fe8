"""murphy-generate prints completions (and errors in one line)."""
import json

from murphy_jax.cli.generate import main


def test_generate_json_and_text(tiny_policy_dir, capsys):
    assert main(["--model", tiny_policy_dir, "--prompt", "def add(a, b):", "--prompt", "x", "--n", "2",
                 "--max-new-tokens", "5", "--temperature", "0.7", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["prompt"], r["sample"]) for r in lines] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert all(1 <= len(r["tokens"]) == len(r["logprobs"]) <= 5 for r in lines)
    assert main(["--model", tiny_policy_dir, "--chat", "--prompt", "hi", "--greedy", "--max-new-tokens", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("=== prompt 0 sample 0 (")


def test_generate_errors(tiny_policy_dir, capsys):
    assert main(["--model", "/does/not/exist", "--prompt", "x"]) == 2
    assert "model path '/does/not/exist' does not exist" in capsys.readouterr().err
    assert main(["--model", tiny_policy_dir, "--prompt", "x", "--n", "0"]) == 2
    assert "n=0: must be a positive integer" in capsys.readouterr().err
