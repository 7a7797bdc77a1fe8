"""Sampler: the host side of generation (validation, bucketing, grouping, stop strings, results).

Shapes are bucketed so a long RL run compiles a bounded number of programs:
prompt length to the next bucket in ``prompt_buckets``, new tokens to the next
power of two, the number of prompts in a group to a row bucket (powers of two
up to 8, then multiples of 8; padded with inactive rows). Prompts are sorted by
length before grouping so a group's padding stays small.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.layers import KVCache, unstack_layers
from murphy_jax.models.sharding import DEFAULT_RULES, batch_sharding, logical_to_spec
from murphy_jax.sampling import engine
from murphy_jax.sampling.params import SamplingError, SamplingParams

DEFAULT_PROMPT_BUCKETS = (32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192)

# A context-local hook (not a Sampler argument) so that it reaches whichever sampler a wrapped generator uses.
_HOST_CHECK: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("murphy_host_check",
                                                                                         default=None)


@contextlib.contextmanager
def host_check(fn: Callable[[], None] | None) -> Iterator[None]:
    """Within this context every generation calls ``fn()`` before each prefill and decode chunk.

    ``fn`` raises to abandon the generation in flight (preemption): at most
    ``chunk`` decode steps run after the request to stop.
    """
    token = _HOST_CHECK.set(fn)
    try:
        yield
    finally:
        _HOST_CHECK.reset(token)


def _host_check() -> None:
    fn = _HOST_CHECK.get()
    if fn is not None:
        fn()


@dataclass
class Sample:
    """One generated continuation."""

    prompt_index: int  # index into the prompts passed to generate
    sample_index: int  # 0..n-1
    tokens: np.ndarray  # int32[length] generated ids (stop token included when it stopped on one)
    logprobs: np.ndarray  # float32[length] log-probs under the sampling distribution (see processing.py)
    finish_reason: str  # "stop" (EOS/stop id), "stop_string" or "length"
    text: str | None = None  # decoded text when the sampler has a tokenizer


@dataclass
class GenerationResult:
    """Samples in prompt-major order (prompt 0 sample 0..n-1, prompt 1 ...) and counters."""

    samples: list[Sample]
    prompt_tokens: int = 0  # real prompt tokens prefilled (each distinct prompt once)
    generated_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    stats: dict = field(default_factory=dict)


def _row_id(stream: int, sample: int) -> int:
    """A 31-bit PRNG stream id for sample ``sample`` of prompt stream ``stream`` (stable across runs and hosts)."""
    return zlib.crc32(f"{int(stream)}:{int(sample)}".encode()) & 0x7FFFFFFF


def _next_pow2(x: int, minimum: int = 1) -> int:
    return max(minimum, 1 << max(0, math.ceil(math.log2(max(x, 1)))))


def _row_bucket(rows: int, multiple: int = 1) -> int:
    """Rows a group is padded to: a power of two up to 8, then a multiple of 8 (and of ``multiple``).

    Multiples of 8 past 8 keep the padding under a third (19 rows run as 24, not 32) for a
    handful more programs: at most ``max_rows / 8 + 3`` row shapes.
    """
    b = _next_pow2(rows) if rows <= 8 else -(-rows // 8) * 8
    b = max(b, multiple)
    return -(-b // multiple) * multiple


class Sampler:
    """Generates continuations for token-id prompts with a model's params (same mesh as the trainer)."""

    def __init__(self, cfg: ModelConfig, *, eos_token_ids: Sequence[int], tokenizer=None, mesh: Mesh | None = None,
                 prompt_buckets: Sequence[int] = DEFAULT_PROMPT_BUCKETS, max_rows: int = 64, chunk: int = 64,
                 min_new_bucket: int = 16, unroll_layers: bool | None = None):
        """``max_rows`` caps prompts*n per device program (KV-cache memory); ``chunk`` is decode steps per host check.

        ``unroll_layers`` decodes with an unrolled loop over per-layer weight
        buffers (a copy of the parameters per new ``params`` object) instead of a
        scan over the stacked weights: faster decoding on XLA's CPU backend, which
        copies a scanned layer's weights out of the stack at every step. Prefill
        scans either way when given stacked parameters. Default: on for CPU, off
        elsewhere (compile time grows with depth).
        """
        if not eos_token_ids:
            raise SamplingError("eos_token_ids: at least one end-of-sequence id is needed")
        self.cfg = cfg
        self.eos = tuple(int(e) for e in eos_token_ids)
        self.tokenizer = tokenizer
        self.mesh = mesh
        self.prompt_buckets = tuple(sorted(prompt_buckets))
        self.max_rows = max_rows
        self.chunk = chunk
        self.min_new_bucket = min_new_bucket
        self.unroll = jax.default_backend() == "cpu" if unroll_layers is None else bool(unroll_layers)
        self._layout_cache: tuple | None = None
        self._batch_multiple = 1
        if mesh is not None:
            spec = batch_sharding(mesh, 1).spec[0]
            axes = (spec,) if isinstance(spec, str) else (spec or ())
            self._batch_multiple = math.prod(mesh.shape[a] for a in axes)

    @classmethod
    def for_tokenizer(cls, cfg: ModelConfig, tokenizer, **kw) -> "Sampler":
        """A Sampler whose EOS ids come from ``tokenizer`` (eos token, plus <|im_end|>/<|endoftext|> if present)."""
        ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
        vocab = tokenizer.get_vocab()
        for tok in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>"):
            if tok in vocab:
                ids.add(vocab[tok])
        return cls(cfg, eos_token_ids=sorted(ids), tokenizer=tokenizer, **kw)

    # -- validation and shapes -------------------------------------------------------------
    def _check(self, prompts, sp: SamplingParams) -> None:
        sp.validate()
        if sp.stop_strings and self.tokenizer is None:
            raise SamplingError("stop_strings need a tokenizer (Sampler(..., tokenizer=...))")
        if not prompts:
            raise SamplingError("prompts: empty list")
        limit = self.cfg.max_position_embeddings
        for i, p in enumerate(prompts):
            if len(p) == 0:
                raise SamplingError(f"prompt {i} is empty")
            if len(p) + sp.max_new_tokens > limit:
                raise SamplingError(f"prompt {i} has {len(p)} tokens; with max_new_tokens={sp.max_new_tokens} "
                                    f"it exceeds the model's context of {limit}")
            if len(p) > self.prompt_buckets[-1]:
                raise SamplingError(f"prompt {i} has {len(p)} tokens, more than the largest prompt bucket "
                                    f"{self.prompt_buckets[-1]}")
            lo, hi = min(p), max(p)
            if lo < 0 or hi >= self.cfg.vocab_size:
                raise SamplingError(f"prompt {i} has token id {lo if lo < 0 else hi} outside [0, {self.cfg.vocab_size})")

    def _prompt_bucket(self, length: int) -> int:
        return next(b for b in self.prompt_buckets if b >= length)

    def _cache_sharding(self, rows: int):
        if self.mesh is None:
            return None
        shape = (self.cfg.num_layers, rows, 1, self.cfg.num_kv_heads, self.cfg.head_dim)
        rules = dict(DEFAULT_RULES)
        kv = logical_to_spec(("layers", "batch", None, "kv_heads", "head_dim"), shape, self.mesh,
                             tuple(rules.items()))
        pos = logical_to_spec(("batch", None), (rows, 1), self.mesh, tuple(rules.items()))
        mk = lambda s: NamedSharding(self.mesh, s)  # noqa: E731
        return KVCache(mk(kv), mk(kv), mk(P(*pos)))

    # -- generation ------------------------------------------------------------------------
    def generate(self, params, prompts: Sequence[Sequence[int]], sp: SamplingParams, *, row_offset: int = 0,
                 stream_ids: Sequence[int] | None = None, share_prefix: bool = True,
                 progress=None) -> GenerationResult:
        """Generate ``sp.n`` samples for every prompt.

        Sample k of prompt i draws from PRNG stream ``(stream_ids[i], k)``
        (default ``stream_ids[i] = row_offset + i``), so its tokens don't depend
        on batch composition, grouping or padding: callers that give each prompt
        a stable id (the rollout loop hashes the task and tree position) get the
        same samples whichever host or batch a prompt lands in. With
        ``share_prefix=False`` every sample gets its own prefill (same tokens;
        kept for benchmarks and tests).
        """
        prompts = [list(map(int, p)) for p in prompts]
        self._check(prompts, sp)
        params = self._layout(params)  # (prefill params, decode params)
        streams = [row_offset + i for i in range(len(prompts))] if stream_ids is None else list(stream_ids)
        if len(streams) != len(prompts):
            raise SamplingError(f"stream_ids has {len(streams)} entries for {len(prompts)} prompts")
        rows = [[_row_id(streams[i], k) for k in range(sp.n)] for i in range(len(prompts))]
        if not share_prefix and sp.n > 1:
            expanded = [p for p in prompts for _ in range(sp.n)]
            flat = [r for rs in rows for r in rs]
            res = self._generate(params, expanded, sp, n=1, row_ids_of=lambda i: np.asarray([flat[i]]),
                                 progress=progress)
            for s in res.samples:
                s.prompt_index, s.sample_index = divmod(s.prompt_index, sp.n)
            return res
        return self._generate(params, prompts, sp, n=sp.n, row_ids_of=lambda i: np.asarray(rows[i]),
                              progress=progress)

    def _generate(self, params, prompts, sp: SamplingParams, *, n: int, row_ids_of, progress) -> GenerationResult:
        mode = engine.Mode(greedy=sp.greedy, top_k=int(sp.top_k), use_top_p=sp.top_p < 1.0)
        stop = sorted(set(self.eos) | set(sp.stop_token_ids))
        controls = engine.Controls(
            key=jax.random.PRNGKey(sp.seed), temperature=jnp.float32(sp.temperature or 1.0),
            top_p=jnp.float32(sp.top_p), stop_ids=jnp.asarray(stop + [-1] * (_next_pow2(len(stop)) - len(stop)),
                                                              jnp.int32))
        gen_slots = _next_pow2(sp.max_new_tokens, self.min_new_bucket)
        per_group = max(1, self.max_rows // n)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        samples: list[Sample | None] = [None] * (len(prompts) * n)
        result = GenerationResult(samples=[])
        for g0 in range(0, len(order), per_group):
            idx = order[g0:g0 + per_group]
            self._run_group(params, prompts, idx, sp, n, mode, controls, gen_slots, row_ids_of, samples, result)
            if progress is not None:
                progress(len(idx) * n)
        result.samples = samples  # type: ignore[assignment]
        return result

    def _run_group(self, params, prompts, idx, sp, n, mode, controls, gen_slots, row_ids_of, samples, result):
        bp = _row_bucket(len(idx), self._batch_multiple)
        plen = self._prompt_bucket(max(len(prompts[i]) for i in idx))
        ids = np.zeros((bp, plen), np.int32)
        lens = np.ones((bp,), np.int32)
        active = np.zeros((bp,), bool)
        row_ids = np.zeros((bp * n,), np.int32)
        for j, i in enumerate(idx):
            ids[j, : len(prompts[i])] = prompts[i]
            lens[j] = len(prompts[i])
            active[j] = True
            row_ids[j * n:(j + 1) * n] = row_ids_of(i)
        put = self._put
        _host_check()
        t0 = time.perf_counter()
        state = engine.prefill(params[0], put(ids), put(lens), put(active), put(row_ids), controls, cfg=self.cfg, n=n,
                               gen_slots=gen_slots, mode=mode, cache_sharding=self._cache_sharding(bp * n))
        jax.block_until_ready(state.tokens)
        t1 = time.perf_counter()
        stopped_by_string = np.zeros((bp * n,), bool)
        text_lens = np.zeros((bp * n,), np.int32)
        step = 1
        while True:
            done = np.asarray(state.done)
            if done.all() or step >= sp.max_new_tokens:
                break
            _host_check()
            limit = min(step + self.chunk, sp.max_new_tokens)
            state = engine.decode(params[1], state, jnp.int32(limit), controls, cfg=self.cfg, prompt_slots=plen,
                                  mode=mode)
            step = int(state.step)
            if sp.stop_strings:
                newly = self._stop_strings(state, sp.stop_strings, stopped_by_string, text_lens)
                if newly.any():
                    # Same placement as the old flags: an uncommitted array would make jit compile decode again.
                    done = jax.device_put(np.asarray(state.done) | newly, state.done.sharding)
                    state = state._replace(done=done)
        tokens, logprobs = np.asarray(state.tokens), np.asarray(state.logprobs)
        lengths, done = np.asarray(state.lengths), np.asarray(state.done)
        t2 = time.perf_counter()
        result.prefill_seconds += t1 - t0
        result.decode_seconds += t2 - t1
        stop_set = set(int(s) for s in np.asarray(controls.stop_ids) if s >= 0)
        for j, i in enumerate(idx):
            result.prompt_tokens += len(prompts[i])
            for k in range(n):
                r = j * n + k
                length = int(text_lens[r]) if stopped_by_string[r] else int(lengths[r])
                toks = tokens[r, :length].copy()
                if stopped_by_string[r]:
                    reason = "stop_string"
                elif length and done[r] and int(toks[-1]) in stop_set:
                    reason = "stop"
                else:
                    reason = "length"
                text = self.tokenizer.decode(toks, skip_special_tokens=True) if self.tokenizer is not None else None
                samples[i * n + k] = Sample(i, k, toks, logprobs[r, :length].copy(), reason, text)
                result.generated_tokens += length

    def _stop_strings(self, state, stop_strings, stopped, text_lens) -> np.ndarray:
        """Mark rows whose text contains a stop string; record the shortest token prefix that contains it."""
        tokens, lengths, done = np.asarray(state.tokens), np.asarray(state.lengths), np.asarray(state.done)
        newly = np.zeros_like(done)
        for r in np.nonzero(~done)[0]:
            toks = tokens[r, : lengths[r]]
            text = self.tokenizer.decode(toks, skip_special_tokens=False)
            if not any(s in text for s in stop_strings):
                continue
            k = 1
            while k < len(toks) and not any(s in self.tokenizer.decode(toks[:k], skip_special_tokens=False)
                                            for s in stop_strings):
                k += 1
            newly[r], stopped[r], text_lens[r] = True, True, k
        return newly

    def _layout(self, params) -> tuple[dict, dict]:
        """(prefill params, decode params): decoding unrolls over per-layer copies (made once per params object).

        Prefill keeps the caller's stacked layers and scans them: one layer body to compile
        instead of every layer's (SmolLM2, 8 x 1024 tokens on CPU: 2.2 s compile, 18.3 s run,
        against 22.9 s and 19.9 s unrolled; benchmarks/bench_prefill.py), and a prompt's
        tokens amortise the per-layer weight copy that makes scanned decoding slow.
        """
        if not self.unroll or isinstance(params["layers"], (list, tuple)):
            return params, params
        if self._layout_cache is not None and self._layout_cache[0] is params:
            return params, self._layout_cache[1]
        out = unstack_layers(params)
        self._layout_cache = (params, out)  # holds ``params`` so its id cannot be reused while cached
        return params, out

    def _put(self, x: np.ndarray):
        if self.mesh is None:
            return jnp.asarray(x)
        if x.shape[0] % self._batch_multiple:
            return jax.device_put(x, NamedSharding(self.mesh, P()))
        return jax.device_put(x, batch_sharding(self.mesh, x.ndim))
