"""The multi-turn expansion loop: sample, execute, feed back, expand failed nodes into sibling groups.

Turn 1 samples ``group_size`` (G) responses per task. At each later turn, every
failed, unexpanded node of the previous turn (or the ``expand_budget`` best or
random ones per tree) gets ``children`` (K) responses to the refinement prompt
built from its history and execution feedback; the K children of one node
share one prompt (one prefill) and form a sibling group. Up to ``turns`` (S).

Execution overlaps generation: requests of a turn are generated in chunks and
each chunk's programs are submitted to the executor (which runs in other
processes) before the next chunk is generated. The executor's own limits bound
every program, so a hung program never blocks the loop. An executor
``InfraError`` is retried and then raised: it never becomes a reward.

A ``check`` callable (preemption) is polled before every generation chunk,
between decode chunks (``sampling.host_check``) and while waiting for the
executor; when it raises, the rollout is abandoned and its queued programs are
cancelled.
"""
from __future__ import annotations

import logging
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np

from murphy_jax.data.extract import extract_for_task
from murphy_jax.data.prompts import Attempt, PromptTemplates, build_messages, no_code_feedback
from murphy_jax.data.task import CodeTask
from murphy_jax.execution import ExecResult, InfraError, render_feedback
from murphy_jax.rollout.generator import Generation, GenRequest, Generator
from murphy_jax.rollout.tree import RolloutTree
from murphy_jax.sampling import host_check

log = logging.getLogger(__name__)

EXPAND_SELECT = ("reward", "random")


@dataclass(frozen=True)
class RolloutConfig:
    """Knobs of the expansion loop (the ``rollout`` section of the run config)."""

    group_size: int = 8  # G: turn-1 samples per task (the root sibling group)
    children: int = 0  # K: children per expanded failed node (0 = same as group_size)
    turns: int = 2  # S: maximum turns per tree (1 = plain GRPO)
    history: str = "last"  # refinement prompt shows the "last" attempt or the "full" chain
    attempt_format: str = "response"  # earlier attempts shown as the raw "response" or extracted "code"
    expand_budget: int = 0  # failed nodes expanded per tree per turn (0 = all)
    expand_select: str = "reward"  # which failed nodes the budget keeps: highest "reward" first, or "random"
    reward_tests: str = "all"  # tests that define the reward: "all" or "private"
    reward_kind: str = "fraction"  # "fraction" of tests passed or "binary" all-or-nothing
    requests_per_chunk: int = 0  # generate this many prompts before submitting their programs (0 = whole turn)
    exec_retries: int = 2  # resubmissions of a batch after an executor InfraError before giving up
    feedback_chars: int = 2000  # cap on the feedback text shown to the policy
    seed: int = 0

    @property
    def k(self) -> int:
        return self.children or self.group_size

    def validate(self) -> None:
        """Raise ValueError naming the bad key (as ``rollout.<key>``)."""
        checks = [("group_size", self.group_size >= 1, ">= 1"), ("children", self.children >= 0, ">= 0"),
                  ("turns", self.turns >= 1, ">= 1"), ("history", self.history in ("last", "full"), "'last'|'full'"),
                  ("attempt_format", self.attempt_format in ("response", "code"), "'response'|'code'"),
                  ("expand_budget", self.expand_budget >= 0, ">= 0"),
                  ("expand_select", self.expand_select in EXPAND_SELECT, f"one of {EXPAND_SELECT}"),
                  ("reward_tests", self.reward_tests in ("all", "private"), "'all'|'private'"),
                  ("reward_kind", self.reward_kind in ("fraction", "binary"), "'fraction'|'binary'"),
                  ("requests_per_chunk", self.requests_per_chunk >= 0, ">= 0"),
                  ("exec_retries", self.exec_retries >= 0, ">= 0")]
        for key, ok, allowed in checks:
            if not ok:
                raise ValueError(f"rollout.{key}={getattr(self, key)!r}: must be {allowed}")


@dataclass
class RolloutStats:
    """Counters and timings of one rollout."""

    tasks: int = 0
    skipped_tasks: int = 0  # turn-1 prompt longer than the generator accepts
    skipped_expansions: int = 0  # refinement prompt too long
    nodes_per_turn: list = field(default_factory=list)
    expanded_per_turn: list = field(default_factory=list)
    no_code: int = 0
    executor_calls: int = 0
    infra_retries: int = 0
    generate_s: float = 0.0  # wall time of the generator calls (prompt rendering, sampling, detokenizing)
    prefill_s: float = 0.0  # of which the sampler's prefill programs (GenerationResult.prefill_seconds)
    decode_s: float = 0.0  # of which the sampler's decode loop (GenerationResult.decode_seconds)
    execute_s: float = 0.0  # time spent waiting for the executor after generation finished
    prompt_tokens: int = 0
    generated_tokens: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _seed(base: int, step: int, turn: int) -> int:
    # Distinct PRNG streams for every (run seed, step, turn); stays below 2**31.
    return (base * 1_000_003 + step * 101 + turn) % (2**31 - 1)


def _stream_id(task_id: str, turn: int, rank: int) -> int:
    """PRNG stream of a request: its task and its place in the task's tree, not its place in a batch.

    So a tree samples the same tokens whichever host builds it and whatever
    else is in its generation batch (multi-host runs equal single-host ones).
    """
    return zlib.crc32(f"{task_id}|{turn}|{rank}".encode()) & 0x3FFFFFFF


def run_rollout(tasks: Sequence[CodeTask], generator: Generator, executor, cfg: RolloutConfig, *,
                templates: PromptTemplates | None = None, step: int = 0,
                on_turn: Callable[[int, RolloutTree], None] | None = None,
                success: Callable[[ExecResult, CodeTask], bool] | None = None,
                check: Callable[[], None] | None = None) -> tuple[RolloutTree, RolloutStats]:
    """Build the feedback-conditioned rollout trees of ``tasks`` (one tree per task, all in one RolloutTree).

    ``success(result, task)`` decides whether a node succeeded (is not expanded further); the default,
    ``result.passed``, is "every test passed". Evaluation passes its benchmark's scoring rule here.
    ``check()`` is called at every host check and raises to abandon the rollout (preemption).
    """
    cfg.validate()
    with host_check(check):
        return _rollout(tasks, generator, executor, cfg, templates, step, on_turn, success, check or _no_check)


def _no_check() -> None:
    pass


def _rollout(tasks, generator, executor, cfg, templates, step, on_turn, success, check):
    templates = templates or PromptTemplates()
    tree = RolloutTree(task_names=[t.task_id for t in tasks])
    stats = RolloutStats(tasks=len(tasks))
    reqs = [GenRequest(tuple(build_messages(t, (), cfg.history, templates, cfg.attempt_format)), t, 1)
            for t in tasks]
    owners = list(range(len(tasks)))
    rng = np.random.default_rng(_seed(cfg.seed, step, 0))
    for turn in range(1, cfg.turns + 1):
        if turn > 1:
            parents = _select(tree, tree.expandable(max_turns=cfg.turns, turn=turn - 1), cfg, rng)
            stats.expanded_per_turn.append(len(parents))
            owners = parents.tolist()
            reqs = [GenRequest(tuple(build_messages(tasks[tree.task[p]], _history(tree, p), cfg.history, templates,
                                                    cfg.attempt_format)), tasks[tree.task[p]], turn) for p in owners]
        if not reqs:
            break
        n = cfg.group_size if turn == 1 else cfg.k
        nodes = _turn(tree, tasks, reqs, owners, n, turn, generator, executor, cfg, templates, step, stats, success,
                      check)
        stats.nodes_per_turn.append(len(nodes))
        if on_turn is not None:
            on_turn(turn, tree)
    return tree, stats


def _history(tree: RolloutTree, node: int) -> list[Attempt]:
    return [Attempt(tree.response_text[a], tree.feedback[a], tree.code[a] or None) for a in tree.ancestors(node)]


def _select(tree: RolloutTree, failed: np.ndarray, cfg: RolloutConfig, rng) -> np.ndarray:
    """Apply the per-tree expansion budget to the failed nodes of one turn."""
    if not cfg.expand_budget or not len(failed):
        return failed
    keep = []
    for t in np.unique(tree.task[failed]):
        mine = failed[tree.task[failed] == t]
        if cfg.expand_select == "reward":
            # Highest partial reward first: the closest misses profit most from feedback. Ties: earlier node.
            mine = mine[np.lexsort((mine, -tree.reward[mine]))]
        else:
            mine = rng.permutation(mine)
        keep.extend(mine[: cfg.expand_budget].tolist())
    return np.asarray(sorted(keep), np.int64)


def _turn(tree, tasks, reqs, owners, n, turn, generator, executor, cfg, templates, step, stats,
          success=None, check=_no_check) -> list[int]:
    """Generate (in chunks), append the nodes, execute them overlapping the next chunk; returns the new nodes."""
    pending: list = []
    try:
        return _turn_inner(tree, tasks, reqs, owners, n, turn, generator, executor, cfg, templates, step, stats,
                           success, check, pending)
    except BaseException:
        # Abandoned (preempted) or failed: programs still queued must not hold up the executor's shutdown.
        for _, job in pending:
            _cancel(job[-1])
        raise


def _turn_inner(tree, tasks, reqs, owners, n, turn, generator, executor, cfg, templates, step, stats, success,
                check, pending) -> list[int]:
    chunk = cfg.requests_per_chunk or len(reqs)
    ranks = _ranks_in_task(tree) if turn > 1 else None
    new_nodes: list[int] = []
    for c0 in range(0, len(reqs), chunk):
        check()
        t0 = time.perf_counter()
        streams = [_stream_id(r.task.task_id, turn, ranks[o] if turn > 1 else 0) for r, o in
                   zip(reqs[c0:c0 + chunk], owners[c0:c0 + chunk])]
        gens = generator.generate(reqs[c0:c0 + chunk], n, seed=_seed(cfg.seed, step, turn), stream_ids=streams)
        stats.generate_s += time.perf_counter() - t0
        gs = getattr(generator, "last_stats", {}) or {}
        stats.prompt_tokens += gs.get("prompt_tokens", 0)
        stats.generated_tokens += gs.get("generated_tokens", 0)
        stats.prefill_s += gs.get("prefill_s", 0.0)
        stats.decode_s += gs.get("decode_s", 0.0)
        flat_owner, flat_gen = [], []
        for owner, g in zip(owners[c0:c0 + chunk], gens):
            if g is None:
                if turn == 1:
                    stats.skipped_tasks += 1
                else:
                    stats.skipped_expansions += 1
                continue
            flat_owner += [owner] * len(g)
            flat_gen += g
        if not flat_gen:
            continue
        fields = _gen_fields(flat_gen)
        ids = tree.add_roots(task=flat_owner, **fields) if turn == 1 else tree.add_children(flat_owner, **fields)
        new_nodes += ids.tolist()
        pending.append(_submit(tree, ids, tasks, executor, cfg, templates, stats))
    t0 = time.perf_counter()
    for ids, job in pending:
        _collect(tree, ids, tasks, executor, job, cfg, stats, success, check)
    stats.execute_s += time.perf_counter() - t0
    return new_nodes


def _ranks_in_task(tree: RolloutTree) -> np.ndarray:
    """Each node's position among the nodes of its own task (creation order)."""
    rank, seen = np.zeros(len(tree), np.int64), {}
    for i, t in enumerate(tree.task.tolist()):
        rank[i] = seen.get(t, 0)
        seen[t] = rank[i] + 1
    return rank


def _gen_fields(gens: list[Generation]) -> dict:
    return {"prompt_ids": [g.prompt_ids for g in gens], "response_ids": [g.response_ids for g in gens],
            "logprobs": [g.logprobs for g in gens], "prompt_text": [g.prompt_text for g in gens],
            "response_text": [g.text for g in gens]}


def _submit(tree, ids, tasks, executor, cfg, templates, stats):
    """Extract code and submit the runnable programs (non-blocking)."""
    extracted = [extract_for_task(tree.response_text[i], tasks[tree.task[i]]) for i in ids]
    run = [j for j, e in enumerate(extracted) if e.ok]
    stats.no_code += len(ids) - len(run)
    stats.executor_calls += len(run)
    programs = [extracted[j].code for j in run]
    run_tasks = [tasks[tree.task[ids[j]]] for j in run]
    future = executor.submit_batch(programs, run_tasks) if run else None
    return ids, (extracted, run, programs, run_tasks, future)


def _collect(tree, ids, tasks, executor, job, cfg, stats, success=None, check=_no_check) -> None:
    extracted, run, programs, run_tasks, future = job
    results: list[ExecResult | None] = [None] * len(ids)
    if future is not None:
        for j, r in zip(run, _results_with_retries(executor, future, programs, run_tasks, cfg, stats, check)):
            results[j] = r
    reward, ok, feedback, code, meta = [], [], [], [], []
    for j, node in enumerate(ids):
        task, e = tasks[tree.task[node]], extracted[j]
        if results[j] is None:  # no code: a defined zero-reward outcome whose feedback says so
            r = ExecResult.no_code(task, reward_tests=cfg.reward_tests, reward_kind=cfg.reward_kind)
            fb = no_code_feedback(e)[: cfg.feedback_chars]
        else:
            r = results[j]
            fb = render_feedback(r, task, max_chars=cfg.feedback_chars)
        reward.append(r.reward(cfg.reward_tests, cfg.reward_kind))
        ok.append(bool(success(r, task)) if success is not None and results[j] is not None else r.passed)
        feedback.append(fb)
        code.append(e.code if e.ok else "")
        meta.append({"status": r.status, "n_passed": r.n_passed, "n_tests": r.n_tests,
                     "extract": e.method if e.ok else e.reason})
    tree.set_outcomes(ids, reward=reward, succeeded=ok, feedback=feedback, code=code, meta=meta)


def _wait(future, check) -> None:
    """Block until ``future`` is done, calling ``check()`` every few milliseconds (it may raise to abandon)."""
    if check is _no_check or not hasattr(future, "done"):
        return
    while not future.done():
        check()
        time.sleep(0.01)


def _results_with_retries(executor, future, programs, run_tasks, cfg, stats, check=_no_check) -> list[ExecResult]:
    try:
        for attempt in range(cfg.exec_retries + 1):
            try:
                _wait(future, check)
                return future.result()
            except InfraError as e:
                if attempt == cfg.exec_retries:
                    raise InfraError(f"executor failed {attempt + 1} times on a batch of {len(programs)} programs; "
                                     f"last error: {e}") from e
                stats.infra_retries += 1
                log.warning("executor infra error (%s); resubmitting the batch", e)
                future = executor.submit_batch(programs, run_tasks)
    except BaseException:
        _cancel(future)  # a resubmitted batch is not among the turn's pending ones
        raise
    raise AssertionError("unreachable")


def _cancel(future) -> None:
    """Cancel the executions of a batch that have not started (they are skipped by the executor)."""
    for f in getattr(future, "futures", ()):
        f.cancel()
