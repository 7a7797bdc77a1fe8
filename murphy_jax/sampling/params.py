"""SamplingParams: what to generate, validated on the host with one-line errors."""
from __future__ import annotations

from dataclasses import dataclass, field

from murphy_jax.errors import MurphyUserError


class SamplingError(MurphyUserError, ValueError):
    """Bad sampling input (empty prompt, too long, n <= 0, top_p out of range, ...)."""


@dataclass(frozen=True)
class SamplingParams:
    """Generation controls. ``temperature=0`` means greedy."""

    n: int = 1  # samples per prompt (they share one prefill)
    max_new_tokens: int = 256  # hard cap on generated tokens per sample
    temperature: float = 1.0  # 0 = greedy; log-probs are those of softmax(logits / T)
    top_k: int = 0  # keep the k most likely tokens (0 = off)
    top_p: float = 1.0  # nucleus mass in (0, 1]; 1 = off
    seed: int = 0  # same seed + same prompts -> same samples
    stop_token_ids: tuple[int, ...] = ()  # besides the tokenizer's EOS; the stop token is kept in the output
    stop_strings: tuple[str, ...] = field(default=())  # checked on the host between decode chunks

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def validate(self) -> None:
        """Raise SamplingError naming the first bad field."""
        if not isinstance(self.n, int) or self.n <= 0:
            raise SamplingError(f"n={self.n!r}: must be a positive integer")
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens <= 0:
            raise SamplingError(f"max_new_tokens={self.max_new_tokens!r}: must be a positive integer")
        if self.temperature < 0:
            raise SamplingError(f"temperature={self.temperature}: must be >= 0 (0 = greedy)")
        if not (0.0 < self.top_p <= 1.0):
            raise SamplingError(f"top_p={self.top_p}: must be in (0, 1]")
        if self.top_k < 0:
            raise SamplingError(f"top_k={self.top_k}: must be >= 0 (0 = off)")
        if any(not s for s in self.stop_strings):
            raise SamplingError("stop_strings: empty strings are not allowed")
