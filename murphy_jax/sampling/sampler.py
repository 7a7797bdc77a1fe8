"""Sampler: the host side of generation (validation, shapes, warm-up, results); the loop is in ``schedule.py``.

A call runs its prompts through a *pool* of decode rows (``engine.py``):
finished rows are refilled with waiting prompts every host check, so the
pool's rows keep working while others' samples run long.

Shapes. A call with ``rows_needed = len(prompts) * n`` rows, longest prompt
``L`` and ``max_new_tokens = M`` uses ``PoolShape`` (``pool_shape``):

- pool rows ``R = max(max_rows, n)`` rounded up to the mesh's batch multiple;
  with ``shrink_pool`` (default) a call needing fewer rows uses the next power
  of two of ``rows_needed`` instead (rounded the same way);
- prompt slots ``P`` = the smallest of ``prompt_buckets`` >= ``L`` (every
  prefill of the call pads its prompts to ``P`` too);
- generated-token slots ``G = next_pow2(M)``, at least ``min_new_bucket``;
- prefill batches of 1 or ``C`` prompts, ``C`` the largest power of two
  <= ``min(prefill_tokens // P, R // n)`` (at least 1).

Programs, per ``PoolShape`` and sampling mode (greedy / top-k value / top-p on,
``engine.Mode``) and ``n``: ``new_pool`` (R, P, G), ``decode`` (R, G + P),
``prefill`` (1 x P and C x P; shared across modes and ``n``) and ``insert``
(1 and C prompts into the pool). Temperature, top-p mass, seed, stop ids (up to
the next power of two of their count), ``max_new_tokens`` within its bucket,
prompt lengths within a bucket and the number of prompts are traced values or
host-side: they never compile. ``pool_shapes(sp, max_prompt_tokens)`` lists the
shapes a configuration can meet and ``warm_up(params, sp, ...)`` compiles all
of them, after which generation compiles nothing (tested).
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.layers import KVCache
from murphy_jax.models.sharding import DEFAULT_RULES, batch_sharding, logical_to_spec
from murphy_jax.sampling import engine
from murphy_jax.sampling.decode_params import prepare_decode_params
from murphy_jax.sampling.params import SamplingError, SamplingParams
from murphy_jax.sampling.schedule import PoolRun, PoolShape

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


def _round_up(x: int, multiple: int) -> int:
    return -(-x // multiple) * multiple


class Sampler:
    """Generates continuations for token-id prompts with a model's params (same mesh as the trainer)."""

    def __init__(self, cfg: ModelConfig, *, eos_token_ids: Sequence[int], tokenizer=None, mesh: Mesh | None = None,
                 prompt_buckets: Sequence[int] = DEFAULT_PROMPT_BUCKETS, max_rows: int = 64, chunk: int = 64,
                 min_new_bucket: int = 16, unroll_layers: bool | None = None, refill: bool = True,
                 shrink_pool: bool = True, prefill_tokens: int = 4096):
        """``max_rows`` is the pool's decode rows (KV-cache memory); ``chunk`` is decode steps per host check.

        ``refill=False`` fills the pool only when it is empty (the old grouped
        schedule; for benchmarks). ``shrink_pool=False`` always decodes ``max_rows``
        rows, so small calls compile nothing new (fewer shapes to warm up).
        ``prefill_tokens`` bounds a prefill call's padded tokens (prompts x bucket).

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
        self.refill, self.shrink_pool, self.prefill_tokens = bool(refill), bool(shrink_pool), int(prefill_tokens)
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
        samples: list[Sample | None] = [None] * (len(prompts) * n)
        result = GenerationResult(samples=[])
        run = self._run(params, sp, n=n, rows_needed=len(prompts) * n, longest=max(map(len, prompts)),
                        prompts=prompts, row_ids_of=row_ids_of, progress=progress)
        run.run(samples, result)
        result.samples = samples  # type: ignore[assignment]
        return result

    def _run(self, params, sp: SamplingParams, *, n, rows_needed, longest, prompts, row_ids_of, progress=None):
        mode = engine.Mode(greedy=sp.greedy, top_k=int(sp.top_k), use_top_p=sp.top_p < 1.0)
        stop = sorted(set(self.eos) | set(sp.stop_token_ids))
        controls = engine.Controls(
            key=jax.random.PRNGKey(sp.seed), temperature=jnp.float32(sp.temperature or 1.0),
            top_p=jnp.float32(sp.top_p), stop_ids=jnp.asarray(stop + [-1] * (_next_pow2(len(stop)) - len(stop)),
                                                              jnp.int32),
            max_new=jnp.int32(sp.max_new_tokens))
        return PoolRun(self, params, prompts, sp, n=n, row_ids_of=row_ids_of, mode=mode, controls=controls,
                       shape=self.pool_shape(rows_needed, longest, sp.max_new_tokens, n), refill=self.refill,
                       progress=progress, check=_host_check)

    def pool_shape(self, rows_needed: int, longest_prompt: int, max_new_tokens: int, n: int) -> PoolShape:
        """The pool and prefill shapes of a call with ``rows_needed`` = prompts x n rows (see the module docstring)."""
        full = _round_up(max(self.max_rows, n), self._batch_multiple)
        rows = full
        if self.shrink_pool and rows_needed < full:
            rows = min(full, _round_up(_next_pow2(max(rows_needed, n)), self._batch_multiple))
        plen = self._prompt_bucket(longest_prompt)
        cap = max(1, min(self.prefill_tokens // plen, rows // n))
        return PoolShape(rows=rows, prompt_slots=plen, gen_slots=_next_pow2(max_new_tokens, self.min_new_bucket),
                         prefill_rows=1 << (cap.bit_length() - 1))

    def pool_shapes(self, sp: SamplingParams, max_prompt_tokens: int | None = None) -> list[PoolShape]:
        """Every PoolShape a call with ``sp`` and prompts of at most ``max_prompt_tokens`` tokens can use."""
        top = self._prompt_bucket(min(max_prompt_tokens or self.prompt_buckets[-1], self.prompt_buckets[-1]))
        full = _round_up(max(self.max_rows, sp.n), self._batch_multiple)
        needs = sorted({full} | ({min(full, 1 << i) for i in range(full.bit_length() + 1)} if self.shrink_pool
                                 else set()))
        out = []
        for plen in (b for b in self.prompt_buckets if b <= top):
            for need in needs:
                shape = self.pool_shape(need, plen, sp.max_new_tokens, sp.n)
                if shape not in out:
                    out.append(shape)
        return out

    def warm_up(self, params, sp: SamplingParams, *, max_prompt_tokens: int | None = None) -> int:
        """Compile every program ``generate(params, prompts, sp')`` can run, for prompts up to ``max_prompt_tokens``.

        ``sp'`` may differ from ``sp`` in seed, temperature (non-zero stays non-zero), top_p
        (below 1 stays below 1), the number of prompts and their lengths, and stop strings;
        not in ``n``, ``top_k``, ``max_new_tokens``' power-of-two bucket or the number of stop ids'.
        Runs each program once on dummy rows (nothing is decoded). Returns how many shapes it ran.
        """
        sp.validate()
        params = self._layout(params)
        shapes = self.pool_shapes(sp, max_prompt_tokens)
        n = sp.n
        for shape in shapes:
            run = self._run(params, sp, n=n, rows_needed=shape.rows, longest=shape.prompt_slots,
                            prompts=[[0]], row_ids_of=lambda i: np.zeros((n,), np.int32))
            run.shape = shape
            sizes = sorted({1, shape.prefill_rows})
            mark = lambda p: p._replace(done=jax.device_put(np.asarray(p.done), p.done.sharding))  # noqa: E731
            fill = lambda p, rb: run.fill(p, [], [], rb)  # noqa: E731  (all rows padding: inserts nothing)
            stop = shape.rows + 1
            # Each program after each program that can precede it (their outputs' placements differ):
            # inserts after new_pool, insert, decode and the host's stop-string marks; decode after each.
            for rb in sizes:
                pool = fill(run.new_pool(), rb)
                for rb2 in sizes:
                    pool = fill(pool, rb2)
                pool = fill(run.decode(run.decode(pool, 0, stop), 0, stop), rb)
                pool = fill(mark(pool), rb)
                pool = run.decode(mark(run.decode(pool, 0, stop)), 0, stop)
            jax.block_until_ready(pool)
        return len(shapes)

    @staticmethod
    def _make_sample(i, k, tokens, logprobs, reason, text) -> Sample:
        return Sample(i, k, tokens, logprobs, reason, text)

    def _layout(self, params) -> tuple[dict, dict]:
        """(prefill params, decode params): decoding reads a decode-only copy (made once per params object).

        The copy (``sampling/decode_params.py``) holds one dict per layer of 2-D kernels, q/k/v and
        gate/up fused: XLA's CPU backend otherwise copies a scanned layer's weights out of the stack
        and transposes o_proj at every step (SmolLM2 batch 1: 1.27x faster per decode step than
        per-layer copies of the trainer's kernels; benchmarks/bench_decode_step.py).

        Prefill keeps the caller's stacked layers and scans them: one layer body to compile
        instead of every layer's (SmolLM2, 8 x 1024 tokens on CPU: 2.2 s compile, 18.3 s run,
        against 22.9 s and 19.9 s unrolled; benchmarks/bench_prefill.py), and a prompt's
        tokens amortise the per-layer weight copy that makes scanned decoding slow.
        """
        if not self.unroll or isinstance(params["layers"], (list, tuple)):
            return params, params
        if self._layout_cache is not None and self._layout_cache[0] is params:
            return params, self._layout_cache[1]
        out = prepare_decode_params(params, self.cfg)
        self._layout_cache = (params, out)  # holds ``params`` so its id cannot be reused while cached
        return params, out

    def _put(self, x: np.ndarray):
        if self.mesh is None:
            return jnp.asarray(x)
        if x.shape[0] % self._batch_multiple:
            return jax.device_put(x, NamedSharding(self.mesh, P()))
        return jax.device_put(x, batch_sharding(self.mesh, x.ndim))
