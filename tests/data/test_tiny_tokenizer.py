"""The shared tiny tokenizer: offline, fast, deterministic, loadable by transformers, ChatML."""
from __future__ import annotations

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from murphy_jax.testing import make_tiny_tokenizer


def test_builds_fast_and_byte_identical(tmp_path):
    t0 = time.perf_counter()
    a = make_tiny_tokenizer(tmp_path / "a")
    assert time.perf_counter() - t0 < 1.0
    b = make_tiny_tokenizer(tmp_path / "b")
    names = sorted(p.name for p in a.iterdir())
    assert names == ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    cfg = json.loads((a / "tokenizer_config.json").read_text())
    assert cfg["eos_token"] == "<|im_end|>" and "<|im_start|>" in cfg["chat_template"]


def test_loads_with_auto_tokenizer(tiny_tokenizer):
    tok = tiny_tokenizer
    assert 500 <= len(tok) <= 1000
    assert [tok.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")] == [0, 1, 2]
    assert (tok.eos_token, tok.eos_token_id, tok.pad_token_id, tok.bos_token) == ("<|im_end|>", 2, 0, None)
    ids = tok("def add(a, b):\n    return a + b")["input_ids"]
    assert len(ids) < 15  # merges learned from the code corpus
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert tok("<|im_start|>user", add_special_tokens=False)["input_ids"][0] == 1  # never split


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_any_text_round_trips(tiny_tokenizer, text):
    assert tiny_tokenizer.decode(tiny_tokenizer(text, add_special_tokens=False)["input_ids"]) == text


def test_without_chat_template(tmp_path):
    tok = AutoTokenizer.from_pretrained(make_tiny_tokenizer(tmp_path / "plain", chat_template=False))
    assert not getattr(tok, "chat_template", None) and tok.eos_token == "<|im_end|>"
