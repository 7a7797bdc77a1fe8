"""The narrow generation interface the rollout loop and evaluation use.

A generator turns chat requests into ``n`` responses each. ``ModelGenerator``
renders the conversation with the tokenizer's chat template and samples with
the jitted ``Sampler``; the ``n`` responses of one request share one prefill.
``ScriptedGenerator`` answers from a Python function (oracle policies in
tests and evaluation checks).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from murphy_jax.data.prompts import PromptTemplates, encode_prompt, render_text
from murphy_jax.data.task import CodeTask
from murphy_jax.sampling import Sampler, SamplingParams

_EMPTY_I = np.zeros(0, np.int32)
_EMPTY_F = np.zeros(0, np.float32)


@dataclass(frozen=True)
class GenRequest:
    """One prompt: the chat messages, and for context the task and turn it belongs to."""

    messages: tuple[dict, ...]
    task: CodeTask
    turn: int


@dataclass
class Generation:
    """One response with what training needs (ids and rollout log-probs; empty for scripted policies)."""

    text: str
    prompt_text: str = ""
    prompt_ids: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    response_ids: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    logprobs: np.ndarray = field(default_factory=lambda: _EMPTY_F)
    finish_reason: str = "stop"


class Generator(Protocol):
    """``generate(requests, n, seed=..., stream_ids=...)`` -> per request, ``n`` Generations, or None if it cannot be served.

    ``stream_ids`` (one int per request) name the requests' PRNG streams, so a
    request samples the same tokens wherever it is batched.
    """

    def generate(self, requests: Sequence[GenRequest], n: int, *, seed: int,
                 stream_ids: Sequence[int] | None = None) -> list[list[Generation] | None]: ...


class ModelGenerator:
    """Samples from a policy's params with the jitted Sampler (params can be swapped between steps)."""

    def __init__(self, sampler: Sampler, tokenizer, params, *, max_new_tokens: int, temperature: float = 1.0,
                 top_p: float = 1.0, top_k: int = 0, max_prompt_tokens: int = 2048,
                 templates: PromptTemplates | None = None, stop_strings: Sequence[str] = ()):
        self.sampler, self.tokenizer, self.params = sampler, tokenizer, params
        self.max_new_tokens, self.temperature, self.top_p, self.top_k = max_new_tokens, temperature, top_p, top_k
        self.max_prompt_tokens = max_prompt_tokens
        self.templates = templates or PromptTemplates()
        self.stop_strings = tuple(stop_strings)
        self.last_stats: dict = {}  # of the last generate call: tokens, prefill_s and decode_s (sampler seconds)

    def encode(self, request: GenRequest) -> tuple[str, list[int]]:
        """The rendered prompt text and its token ids."""
        text = render_text(self.tokenizer, request.messages, self.templates)
        return text, encode_prompt(self.tokenizer, text)

    def _sampling_params(self, n: int, seed: int) -> SamplingParams:
        return SamplingParams(n=n, max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                              top_p=self.top_p, top_k=self.top_k, seed=seed, stop_strings=self.stop_strings)

    def warm_up(self, ns: Sequence[int]) -> int:
        """Compile the sampler's programs for every ``n`` (samples per request) in ``ns``; returns the shapes run.

        Delegates to ``Sampler.warm_up`` (prompts up to ``max_prompt_tokens``); a sampler without one runs nothing.
        """
        if not hasattr(self.sampler, "warm_up"):
            return 0
        return sum(int(self.sampler.warm_up(self.params, self._sampling_params(n, 0),
                                            max_prompt_tokens=self.max_prompt_tokens)) for n in sorted(set(ns)))

    def generate(self, requests: Sequence[GenRequest], n: int, *, seed: int,
                 stream_ids: Sequence[int] | None = None) -> list[list[Generation] | None]:
        """Sample ``n`` responses per request; requests whose prompt exceeds ``max_prompt_tokens`` get None."""
        encoded = [self.encode(r) for r in requests]
        servable = [i for i, (_, ids) in enumerate(encoded) if len(ids) <= self.max_prompt_tokens]
        out: list[list[Generation] | None] = [None] * len(requests)
        self.last_stats = {"prompt_too_long": len(requests) - len(servable), "prompt_tokens": 0,
                           "generated_tokens": 0, "prefill_s": 0.0, "decode_s": 0.0}
        if not servable:
            return out
        sp = self._sampling_params(n, seed)
        streams = None if stream_ids is None else [stream_ids[i] for i in servable]
        res = self.sampler.generate(self.params, [encoded[i][1] for i in servable], sp, stream_ids=streams)
        for j, i in enumerate(servable):
            text, ids = encoded[i]
            prompt_ids = np.asarray(ids, np.int32)
            out[i] = [Generation(s.text or "", text, prompt_ids, s.tokens.astype(np.int32), s.logprobs,
                                 s.finish_reason) for s in res.samples[j * n:(j + 1) * n]]
        self.last_stats.update(prompt_tokens=res.prompt_tokens, generated_tokens=res.generated_tokens,
                               prefill_s=res.prefill_seconds, decode_s=res.decode_seconds)
        return out


class ScriptedGenerator:
    """Answers with ``respond(request, sample_index) -> str``: an oracle or scripted policy."""

    def __init__(self, respond: Callable[[GenRequest, int], str]):
        self.respond = respond
        self.last_stats: dict = {}

    def generate(self, requests: Sequence[GenRequest], n: int, *, seed: int,
                 stream_ids: Sequence[int] | None = None) -> list[list[Generation] | None]:
        """Call ``respond`` for every request and sample index."""
        return [[Generation(self.respond(r, k)) for k in range(n)] for r in requests]
