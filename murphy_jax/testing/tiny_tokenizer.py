"""A tiny, deterministic, offline HF tokenizer for tests.

``make_tiny_tokenizer(out_dir)`` trains a byte-level BPE (``tokenizers``) on the
small embedded corpus below (Python code and English) in well under a second
and saves a Hugging Face tokenizer directory that
``transformers.AutoTokenizer.from_pretrained(out_dir)`` loads:

* ``tokenizer.json``: ~``VOCAB_SIZE`` tokens, the 256 byte symbols always
  included, so any text round-trips; ChatML specials ``<|endoftext|>`` (id 0),
  ``<|im_start|>`` (1), ``<|im_end|>`` (2);
* ``tokenizer_config.json``: ``eos_token="<|im_end|>"``, ``pad_token="<|endoftext|>"``,
  no BOS, and a ChatML ``chat_template`` (``chat_template=False`` leaves it out, for
  tests of the no-template path).

The same arguments always produce byte-identical files.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

VOCAB_SIZE = 768
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
EOS_TOKEN = "<|im_end|>"
PAD_TOKEN = "<|endoftext|>"

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CODE = '''
def add(a, b):
    """Return the sum of a and b."""
    return a + b


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    for i, x in enumerate(numbers):
        for j, y in enumerate(numbers):
            if i != j and abs(x - y) < threshold:
                return True
    return False


class Solution:
    def maxSum(self, nums: List[int], k: int) -> int:
        best = 0
        for start in range(len(nums) - k + 1):
            best = max(best, sum(nums[start:start + k]))
        return best


import sys
from typing import List, Optional


def main() -> None:
    data = sys.stdin.read().split()
    n = int(data[0])
    values = [int(v) for v in data[1:n + 1]]
    print(sum(values) if values else 0)


if __name__ == "__main__":
    main()


def test_add():
    assert add(1, 2) == 3
    assert add(-1, 1) == 0
    with pytest.raises(TypeError):
        add(None, 1)


def is_palindrome(text: str) -> bool:
    cleaned = "".join(ch.lower() for ch in text if ch.isalnum())
    return cleaned == cleaned[::-1]


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
'''

_ENGLISH = """
You are an expert Python programmer. Write a function that returns the sum of a list of numbers.
Your code was run on the tests. Execution feedback: 3 of 5 tests passed.
The test failed: expected 6, got 5. AssertionError: the result is wrong.
Fix the code so that it passes all tests. Return the complete corrected code in a single code block.
Given a string, return True if it is a palindrome and False otherwise.
Read the input from standard input and print the answer to standard output.
Traceback (most recent call last): File "solution.py", line 3, in main. ValueError: invalid literal.
The quick brown fox jumps over the lazy dog. Time limit exceeded. Memory limit exceeded.
For example, the output should be 10. Think about the problem step by step before you answer.
"""


def _corpus() -> list[str]:
    # Repeats give merges stable counts; order is fixed, so training is deterministic.
    return [_CODE, _ENGLISH] * 8


def build_tokenizer(vocab_size: int = VOCAB_SIZE):
    """Train and return the ``tokenizers.Tokenizer`` (byte-level BPE with ChatML specials)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_corpus(), trainer)
    return tok


def make_tiny_tokenizer(out_dir: str | os.PathLike, chat_template: bool = True,
                        vocab_size: int = VOCAB_SIZE) -> Path:
    """Write the tiny tokenizer to ``out_dir`` (created if needed) and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(vocab_size)
    (out / "tokenizer.json").write_text(tok.to_str(pretty=True), encoding="utf-8")
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": None,
        "eos_token": EOS_TOKEN,
        "pad_token": PAD_TOKEN,
        "unk_token": None,
        "add_bos_token": False,
        "model_max_length": 4096,
        "clean_up_tokenization_spaces": False,
    }
    if chat_template:
        config["chat_template"] = CHATML_TEMPLATE
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "special_tokens_map.json").write_text(
        json.dumps({"eos_token": EOS_TOKEN, "pad_token": PAD_TOKEN}, indent=2) + "\n", encoding="utf-8")
    return out
