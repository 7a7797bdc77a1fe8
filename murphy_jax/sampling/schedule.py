"""Host side of one generation: a pool of decode rows refilled with waiting prompts between decode calls.

Loop: fill free rows with waiting prompts (prefill once per prompt, insert its
``n`` samples), decode until ``chunk`` steps have run, every row is done, or
enough rows are done to take the next waiting prompts; then check stop
strings, hand finished rows' tokens to the results and free their rows. It
ends when no row is busy and nothing waits. With ``refill=False`` the pool is
only filled when it is empty (the grouped schedule: a group decodes until its
longest row ends), kept as the benchmark's baseline.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.sampling import engine


@dataclass(frozen=True)
class PoolShape:
    """The static shape of one call's pool and prefill programs."""

    rows: int  # decode rows R
    prompt_slots: int  # P: prompt bucket of the call's longest prompt (prefill pads to it too)
    gen_slots: int  # G: ring of generated-token slots, next power of two of max_new_tokens
    prefill_rows: int  # largest prefill batch (prompts); batches are 1 or this many


def prefill_batches(k: int, cap: int) -> list[int]:
    """Prompt counts of the prefill calls that insert ``k`` prompts: ``cap`` each, the rest 1 by 1 or one padded call.

    Two batch sizes keep the programs few; a rest above half of ``cap`` runs as one
    padded call (at most 2x the work of that call) instead of many single calls.
    """
    out = [cap] * (k // cap)
    rest = k % cap
    if rest:
        out += [cap] if 2 * rest > cap else [1] * rest
    return out


def refill_target(free_waiting_rows: int, n: int, rows: int) -> int:
    """Done rows at which decode hands back to the host to refill: a quarter of the pool, or what still waits."""
    return max(n, min(free_waiting_rows, max(n, rows // 4 // n * n)))


class PoolRun:
    """Runs one ``generate`` call's prompts through a pool; fills ``samples`` (prompt-major) and ``result``."""

    def __init__(self, sampler, params, prompts, sp, *, n, row_ids_of, shape: PoolShape, mode, controls,
                 refill: bool, progress=None, check=None):
        self.s, self.params, self.prompts, self.sp, self.n = sampler, params, prompts, sp, n
        self.row_ids_of, self.shape, self.mode, self.c = row_ids_of, shape, mode, controls
        self.refill, self.progress, self.check = refill, progress, check or (lambda: None)
        self.stop_set = set(int(x) for x in np.asarray(controls.stop_ids) if x >= 0)

    # -- device calls (shared with Sampler.warm_up, so that warm-up compiles exactly what runs) --------------
    def new_pool(self):
        sh = self.shape
        return engine.new_pool(cfg=self.s.cfg, rows=sh.rows, prompt_slots=sh.prompt_slots, gen_slots=sh.gen_slots,
                               cache_sharding=self.s._cache_sharding(sh.rows))

    def fill(self, pool, batch: list[int], dests: list[list[int]], rb: int):
        """Prefill prompts ``batch`` (padded to ``rb`` rows) and insert their samples into rows ``dests``."""
        sh, n = self.shape, self.n
        ids = np.zeros((rb, sh.prompt_slots), np.int32)
        lens = np.ones((rb,), np.int32)
        dest = np.full((rb * n,), sh.rows, np.int32)  # the pool's row count: dropped
        row_ids = np.zeros((rb * n,), np.int32)
        for j, i in enumerate(batch):
            ids[j, : len(self.prompts[i])] = self.prompts[i]
            lens[j] = len(self.prompts[i])
            dest[j * n:(j + 1) * n] = dests[j]
            row_ids[j * n:(j + 1) * n] = self.row_ids_of(i)
        put = self.s._put
        pcache, logits = engine.prefill(self.params[0], put(ids), put(lens), cfg=self.s.cfg)
        return engine.insert(pool, pcache, logits, put(lens), put(dest), put(row_ids), self.c, n=n, mode=self.mode,
                             cache_sharding=self.s._cache_sharding(sh.rows))

    def decode(self, pool, limit: int, target: int):
        return engine.decode(self.params[1], pool, jnp.int32(limit), jnp.int32(target), self.c, cfg=self.s.cfg,
                             mode=self.mode)

    # -- the loop ---------------------------------------------------------------------------------------------
    def run(self, samples: list, result) -> None:
        sh, n, chunk = self.shape, self.n, self.s.chunk
        waiting = deque(sorted(range(len(self.prompts)), key=lambda i: len(self.prompts[i])))
        free = list(range(sh.rows))
        owner: list[tuple[int, int] | None] = [None] * sh.rows
        by_string = np.zeros((sh.rows,), bool)
        text_lens = np.zeros((sh.rows,), np.int32)
        st = {"pool_rows": sh.rows, "cache_slots": sh.prompt_slots + sh.gen_slots, "prefill_calls": 0,
              "refills": 0, "host_checks": 0}
        self.check()
        pool = self.new_pool()
        while True:
            if waiting and len(free) >= n and (self.refill or len(free) == sh.rows):
                t0 = time.perf_counter()
                pool = self._fill_free(pool, waiting, free, owner, result, st)
                jax.block_until_ready(pool.done)
                result.prefill_seconds += time.perf_counter() - t0
            if all(o is None for o in owner):
                break
            self.check()
            t0 = time.perf_counter()
            target = refill_target(len(waiting) * n, n, sh.rows) if (self.refill and waiting) else sh.rows + 1
            pool = self.decode(pool, int(pool.step) + chunk, target)
            st["host_checks"] += 1
            done, lengths = np.asarray(pool.done), np.asarray(pool.lengths)
            tokens = None
            if self.sp.stop_strings:
                tokens = np.asarray(pool.tokens)
                newly = self._stop_strings(tokens, lengths, done, owner, by_string, text_lens)
                if newly.any():
                    # Same placement as the old flags: an uncommitted array would make jit compile decode again.
                    done = done | newly
                    pool = pool._replace(done=jax.device_put(done, pool.done.sharding))
            finished = [r for r in range(sh.rows) if owner[r] is not None and done[r]]
            if finished:
                tokens = np.asarray(pool.tokens) if tokens is None else tokens
                logprobs = np.asarray(pool.logprobs)
                for r in finished:
                    self._harvest(r, tokens, logprobs, lengths, owner, by_string, text_lens, samples, result)
                    free.append(r)
                free.sort()
                if self.progress is not None:
                    self.progress(len(finished))
            result.decode_seconds += time.perf_counter() - t0
        steps, busy = int(pool.step), int(pool.busy)
        st["decode_steps"] = steps
        st["occupancy"] = busy / (steps * sh.rows) if steps else 1.0
        result.stats.update(st)

    def _fill_free(self, pool, waiting, free, owner, result, st):
        k = min(len(waiting), len(free) // self.n)
        if any(o is not None for o in owner):
            st["refills"] += 1
        for rb in prefill_batches(k, self.shape.prefill_rows):
            take = min(rb, k)
            k -= take
            batch = [waiting.popleft() for _ in range(take)]
            dests = []
            for i in batch:
                rows, free[:] = free[:self.n], free[self.n:]
                for kk, r in enumerate(rows):
                    owner[r] = (i, kk)
                dests.append(rows)
                result.prompt_tokens += len(self.prompts[i])
            pool = self.fill(pool, batch, dests, rb)
            st["prefill_calls"] += 1
        return pool

    def _harvest(self, r, tokens, logprobs, lengths, owner, by_string, text_lens, samples, result):
        i, k = owner[r]
        length = int(text_lens[r]) if by_string[r] else int(lengths[r])
        toks = tokens[r, :length].copy()
        if by_string[r]:
            reason = "stop_string"
        elif length and int(toks[-1]) in self.stop_set:
            reason = "stop"
        else:
            reason = "length"
        tok = self.s.tokenizer
        text = tok.decode(toks, skip_special_tokens=True) if tok is not None else None
        samples[i * self.n + k] = self.s._make_sample(i, k, toks, logprobs[r, :length].copy(), reason, text)
        result.generated_tokens += length
        owner[r] = None
        by_string[r], text_lens[r] = False, 0

    def _stop_strings(self, tokens, lengths, done, owner, stopped, text_lens) -> np.ndarray:
        """Rows whose text contains a stop string: record the shortest token prefix that holds one.

        Rows that finished in this call are checked too, so the cut does not depend on where
        decode calls end (refills end them early). Returns the rows still running that must stop.
        """
        decode, stops = self.s.tokenizer.decode, self.sp.stop_strings
        newly = np.zeros_like(done)
        for r in range(len(owner)):
            if owner[r] is None or stopped[r]:
                continue
            toks = tokens[r, : lengths[r]]
            if not any(s in decode(toks, skip_special_tokens=False) for s in stops):
                continue
            k = 1
            while k < len(toks) and not any(s in decode(toks[:k], skip_special_tokens=False) for s in stops):
                k += 1
            newly[r], stopped[r], text_lens[r] = not done[r], True, k
        return newly
