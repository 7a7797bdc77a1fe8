"""Test helpers shared across the project (tiny tokenizer; tiny models live beside it)."""
from murphy_jax.testing.tiny_tokenizer import make_tiny_tokenizer

__all__ = ["make_tiny_tokenizer"]
