"""Prompt building and rendering with real tokenizers (the tiny ChatML one, one without a template)."""
from __future__ import annotations

import json

import pytest
from transformers import AutoTokenizer

from murphy_jax.data.extract import ExtractedCode
from murphy_jax.data.prompts import (Attempt, PromptTemplates, build_messages, no_code_feedback,
                                     prompt_config_defaults, render, render_text, turn1_text)
from murphy_jax.data.task import CodeTask, TestCase
from murphy_jax.testing import make_tiny_tokenizer

HE_PROMPT = 'def add(a, b):\n    """Add.\n    >>> add(1, 2)\n    3\n    """\n'
HUMANEVAL_LIKE = CodeTask(task_id="HumanEval/x", prompt=HE_PROMPT, starter_code=HE_PROMPT, entry_point="add",
                          private_tests=[TestCase(kind="assert", code="assert candidate(1, 1) == 2")])
MBPP_LIKE = CodeTask(task_id="mbpp/x", prompt="Write a function to add.\nYour code should pass this test:\n\n"
                     "assert add(1, 2) == 3", entry_point="add",
                     public_tests=[TestCase(kind="assert", code="assert add(1, 2) == 3")])
STDIO = CodeTask(task_id="lcb/x", prompt="Print A+B.", io_mode="stdio",
                 private_tests=[TestCase(kind="stdio", stdin="1 2\n", expected="3\n")])
FUNCTIONAL = CodeTask(task_id="lcb/y", prompt="Return the max.", entry_point="Solution.best",
                      starter_code="class Solution:\n    def best(self, xs):\n        ",
                      private_tests=[TestCase(kind="call", args=[[1]], expected=1)])
ATTEMPTS = [Attempt(response="```python\ndef add(a, b):\n    return a - b\n```", feedback="0/2 tests passed.",
                    code="def add(a, b):\n    return a - b"),
            Attempt(response="I think it is\n```python\ndef add(a, b):\n    return a * b\n```",
                    feedback="1/2 tests passed.", code="def add(a, b):\n    return a * b")]


def test_turn1_texts_by_task_kind():
    he = turn1_text(HUMANEVAL_LIKE)
    assert he.startswith("Complete the following Python code:\n```python\ndef add(a, b):")
    assert "Write the Python function `add`" in he
    mb = turn1_text(MBPP_LIKE)
    assert mb.startswith("Write a function to add.") and "assert add(1, 2) == 3" in mb
    assert "standard input" in turn1_text(STDIO)
    fn = turn1_text(FUNCTIONAL)
    assert "Use this starter code:\n```python\nclass Solution:\n    def best(self, xs):\n```" in fn


def test_refinement_history_last_and_full():
    last = build_messages(MBPP_LIKE, ATTEMPTS, history="last")
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user"]
    assert last[2]["content"] == ATTEMPTS[1].response and "1/2 tests passed." in last[3]["content"]
    full = build_messages(MBPP_LIKE, ATTEMPTS, history="full")
    assert [m["role"] for m in full] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "0/2 tests passed." in full[3]["content"] and full[4]["content"] == ATTEMPTS[1].response
    code_only = build_messages(MBPP_LIKE, ATTEMPTS, attempt_format="code")
    assert code_only[2]["content"] == "```python\ndef add(a, b):\n    return a * b\n```"
    assert build_messages(MBPP_LIKE)[1:] == [{"role": "user", "content": turn1_text(MBPP_LIKE)}]
    with pytest.raises(ValueError, match="history='all'"):
        build_messages(MBPP_LIKE, ATTEMPTS, history="all")


def test_render_with_chatml_tokenizer(tiny_tokenizer):
    msgs = build_messages(HUMANEVAL_LIKE, ATTEMPTS[:1])
    text = render_text(tiny_tokenizer, msgs)
    assert text.startswith("<|im_start|>system\nYou are an expert Python programmer.")
    assert text.endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert text.count("<|im_start|>") == 5
    ids = render(HUMANEVAL_LIKE, tiny_tokenizer, ATTEMPTS[:1])
    assert tiny_tokenizer.decode(ids) == text
    assert ids.count(tiny_tokenizer.convert_tokens_to_ids("<|im_start|>")) == 5


def test_render_without_chat_template(tmp_path):
    tok = AutoTokenizer.from_pretrained(make_tiny_tokenizer(tmp_path / "plain", chat_template=False))
    assert not getattr(tok, "chat_template", None)
    text = render_text(tok, build_messages(MBPP_LIKE, ATTEMPTS[1:]))
    assert text.startswith("You are an expert Python programmer.")
    assert "\n\n### User\nWrite a function to add." in text
    assert f"### Assistant\n{ATTEMPTS[1].response}\n\n### User\n" in text and text.endswith("### Assistant\n")
    assert tok.decode(render(MBPP_LIKE, tok, ATTEMPTS[1:])) == text


def test_template_without_system_role_gets_it_folded_in(tmp_path, tiny_tokenizer_dir):
    d = tmp_path / "nosys"
    make_tiny_tokenizer(d)
    cfg = json.loads((d / "tokenizer_config.json").read_text())
    cfg["chat_template"] = ("{% for m in messages %}{% if m['role'] == 'system' %}"
                            "{{ raise_exception('System role not supported') }}{% endif %}"
                            "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    (d / "tokenizer_config.json").write_text(json.dumps(cfg))
    tok = AutoTokenizer.from_pretrained(d)
    text = render_text(tok, build_messages(STDIO))
    assert text.startswith("<|im_start|>user\nYou are an expert Python programmer.") and "system" not in text[:20]


def test_templates_are_config():
    defaults = prompt_config_defaults()
    assert set(defaults) >= {"system", "turn1", "refine", "no_code_feedback"}
    custom = PromptTemplates.from_config({"system": "", "refine": "Feedback #{attempt}:\n{feedback}"})
    msgs = build_messages(MBPP_LIKE, ATTEMPTS, templates=custom)
    assert msgs[0]["role"] == "user" and msgs[-1]["content"] == "Feedback #2:\n1/2 tests passed."
    with pytest.raises(ValueError, match=r"prompts.templates: unknown key\(s\) \['sytem'\]"):
        PromptTemplates.from_config({"sytem": "x"})
    with pytest.raises(ValueError, match=r"prompts.templates.refine: unknown field\(s\) \['feedbak'\]"):
        PromptTemplates.from_config({"refine": "{feedbak}"})
    with pytest.raises(ValueError, match="literal braces"):
        PromptTemplates.from_config({"turn1": "{problem} {"})
    braces = PromptTemplates.from_config({"turn1": "{problem} {{not a field}}"})
    assert turn1_text(STDIO, braces) == "Print A+B. {not a field}"
    assert turn1_text(STDIO, braces.__class__(**{**defaults, "turn1": "{problem}"})) == "Print A+B."


def test_no_code_feedback_text():
    fb = no_code_feedback(ExtractedCode(ok=False, reason="no_code"))
    assert fb.startswith("No code could be run: no Python code block was found.")
    # Braces in model text or feedback are data, not template fields.
    odd = Attempt(response="{x}", feedback="KeyError: '{y}'")
    assert build_messages(MBPP_LIKE, [odd])[-1]["content"].count("{y}") == 1
