"""``evaluate``: multi-turn Iter-k evaluation of one policy on a task set, on top of ``run_rollout``.

Every task gets ``n`` chains of up to ``iters`` attempts: turn 1 samples n responses,
each failed attempt gets one refinement prompted with its execution feedback (public
tests only), and a chain stops at its first success. Success uses the scoring rule of
``metrics.is_solved`` (hidden tests always count). Generation, prompts, extraction,
execution and feedback are exactly the training rollout's (``run_rollout``).

Tasks are evaluated ``batch_tasks`` at a time; each finished batch is appended to the
partial-results file, so a rerun with the same config skips it (see ``partial.py``), and a
rerun with more iterations continues the stored chains instead of starting over (``replay.py``).

SIGTERM or SIGINT abandons the batch in flight (between decode chunks and executor
batches) and raises :class:`~murphy_jax.train.checkpoint.Preempted` (exit status 75 when
uncaught) within ``preempt_grace_s``; the batches already appended stay, so a rerun resumes.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Sequence

from murphy_jax.data.prompts import PromptTemplates
from murphy_jax.data.task import CodeTask
from murphy_jax.eval.metrics import (SCORE_RULES, chains_of_task, is_solved, scoring_tests, solved_at, summarize,
                                     summarize_by_difficulty)
from murphy_jax.eval.partial import EvalProgress, append_records, config_hash, read_partial
from murphy_jax.eval.replay import ReplayGenerator, complete_for, truncate
from murphy_jax.rollout import RolloutConfig, run_rollout
from murphy_jax.train.checkpoint import Preempted, PreemptionFlag
from murphy_jax.utils.compiles import CompileWatch

SCHEMA_VERSION = 1
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSettings:
    """How chains are built and scored (everything here but ``iters`` enters the config hash)."""

    iters: int = 5  # k: attempts per chain (Iter-1..Iter-k)
    n: int = 1  # chains (turn-1 samples) per task
    score: str = "official"  # scoring rule: official | all | private (metrics.scoring_tests)
    history: str = "last"  # refinement prompts show the "last" attempt or the "full" chain
    attempt_format: str = "response"  # earlier attempts shown as the raw "response" or extracted "code"
    feedback_chars: int = 2000  # cap on the feedback text shown to the policy
    seed: int = 0  # sampling streams (temperature > 0)

    def validate(self) -> None:
        """Raise ValueError naming the bad setting."""
        if self.iters < 1:
            raise ValueError(f"iters={self.iters}: must be >= 1")
        if self.n < 1:
            raise ValueError(f"n={self.n}: must be >= 1")
        if self.score not in SCORE_RULES:
            raise ValueError(f"score={self.score!r}: must be one of {SCORE_RULES}")
        self.rollout_config().validate()

    def rollout_config(self) -> RolloutConfig:
        """The rollout that realises Iter-k: G = n chains, K = 1 refinement per failure, S = iters turns."""
        return RolloutConfig(group_size=self.n, children=1, turns=self.iters, history=self.history,
                             attempt_format=self.attempt_format, feedback_chars=self.feedback_chars,
                             reward_tests="all", reward_kind="fraction", seed=self.seed)


@dataclass
class EvalReport:
    """One policy's evaluation: per-task records (task order) plus what identifies and times the run."""

    label: str
    settings: EvalSettings
    config: dict  # everything that identifies the run (its hash keys the partial results)
    config_hash: str
    records: list[dict]
    timings: dict = field(default_factory=dict)
    partial_path: str | None = None

    @property
    def pass_at_1(self) -> list[float]:
        """pass@1 at Iter-1..Iter-k."""
        return summarize(self.records, self.settings.iters, self.settings.n)["pass_at_1"]

    def counts(self) -> dict:
        """Attempt-level counts: per iteration, by status, no-code, truncated chains, skipped tasks."""
        per_iter = [0] * self.settings.iters
        statuses: dict[str, int] = {}
        truncated = skipped = tokens = 0
        for r in self.records:
            skipped += bool(r.get("skipped"))
            for chain, s in zip(r["chains"], r["solved_at"]):
                for a in chain:
                    per_iter[a["turn"] - 1] += 1
                    statuses[a["status"]] = statuses.get(a["status"], 0) + 1
                    tokens += a.get("tokens", 0)
                truncated += s is None and 0 < len(chain) < self.settings.iters
        return {"attempts": sum(per_iter), "attempts_per_iter": per_iter, "statuses": dict(sorted(statuses.items())),
                "no_code_attempts": statuses.get("no_code", 0), "truncated_chains": truncated,
                "skipped_tasks": skipped, "generated_tokens": tokens}

    def to_dict(self) -> dict:
        """This model's entry in the JSON report (docs/evaluation.md has the schema)."""
        s = self.settings
        overall = summarize(self.records, s.iters, s.n)
        return {
            "label": self.label, "config_hash": self.config_hash, "config": self.config,
            "benchmark": self.config.get("benchmark"), "n": s.n, "iters": s.iters,
            "temperature": self.config.get("temperature"), "score": s.score,
            "tasks": overall["tasks"], "pass_at_1": overall["pass_at_1"], "pass_at_k": overall["pass_at_k"],
            "solved_chains": overall["solved_chains"], "solved_tasks": overall["solved_tasks"],
            "by_difficulty": summarize_by_difficulty(self.records, s.iters, s.n),
            "counts": self.counts(), "timings": self.timings, "partial_results": self.partial_path,
        }


def evaluate(tasks: Sequence[CodeTask], generator, executor, *, iters: int = 5, n: int = 1,
             templates: PromptTemplates | None = None, score: str = "official", history: str = "last",
             attempt_format: str = "response", feedback_chars: int = 2000, seed: int = 0, batch_tasks: int = 32,
             label: str = "model", config: dict | None = None, partial_path: str | None = None,
             progress: bool = True, preempt_grace_s: float = 30.0, warm_up: bool = False) -> EvalReport:
    """Iter-1..Iter-``iters`` evaluation of ``generator`` on ``tasks`` (resumable through ``partial_path``).

    ``config`` adds what the caller knows about the run (model, benchmark, sampling) to the
    identity that keys the partial results; the settings (but ``iters``) and templates are always
    in it. Stored records of more iterations are truncated, fewer are continued (``replay.py``).
    On SIGTERM/SIGINT raises ``Preempted`` within ``preempt_grace_s`` seconds, keeping the finished batches.
    ``warm_up``: first compile every generation shape (``generator.warm_up``, when it has one), so that no
    level compiles; ``timings`` counts the compilations of each level (``compiles_per_iter``).
    """
    settings = EvalSettings(iters=iters, n=n, score=score, history=history, attempt_format=attempt_format,
                            feedback_chars=feedback_chars, seed=seed)
    settings.validate()
    if batch_tasks < 1:
        raise ValueError(f"batch_tasks={batch_tasks}: must be >= 1")
    templates = templates or PromptTemplates()
    keyed = {k: v for k, v in dataclasses.asdict(settings).items() if k != "iters"}
    full = dict(config or {}, settings=keyed, templates=dataclasses.asdict(templates))
    chash = config_hash(full)
    stored = read_partial(partial_path, chash) if partial_path else {}
    done = {tid: truncate(r, iters) for tid, r in stored.items() if complete_for(r, iters)}
    resumable = {tid: r for tid, r in stored.items() if tid not in done}
    todo = [i for i, t in enumerate(tasks) if t.task_id not in done]
    warm = {"compile/count": 0.0, "compile/seconds": 0.0}
    if warm_up and hasattr(generator, "warm_up") and todo:
        with CompileWatch() as warm_watch:
            generator.warm_up((n, 1) if iters > 1 else (n,))  # turn 1 samples n per task, refinements 1
            warm = warm_watch.take()
    if resumable:
        generator = ReplayGenerator(generator, resumable, tasks, templates=templates, history=history,
                                    attempt_format=attempt_format)
    timings = {"this_run_s": 0.0, "generate_s": 0.0, "prefill_s": 0.0, "decode_s": 0.0, "execute_s": 0.0,
               "tasks_resumed": len(tasks) - len(todo), "tasks_continued": sum(t.task_id in resumable for t in tasks),
               "tasks_evaluated": 0, "prompt_tokens": 0,
               # XLA compilations while each level ran, summed over batches (0 after Iter-1 once warmed up).
               "compiles_per_iter": [0] * iters, "compile_s_per_iter": [0.0] * iters,
               "compiled_after_iter1": [], "warm_up_compiles": int(warm["compile/count"]),
               "warm_up_s": warm["compile/seconds"]}
    bar = EvalProgress(len(tasks), len(tasks) - len(todo), desc=label, enabled=progress)
    cfg = settings.rollout_config()
    t_start = time.perf_counter()
    kept = ("rerun the same command to continue from the results kept in " + partial_path if partial_path
            else "nothing was kept (no partial_path)")
    flag = PreemptionFlag(preempt_grace_s, on_timeout=lambda: kept).install()
    watch = CompileWatch().install()
    try:
        for c0 in range(0, len(todo), batch_tasks):
            flag.check()
            chunk = [tasks[i] for i in todo[c0:c0 + batch_tasks]]
            t0 = time.perf_counter()
            # run_rollout derives each request's sampling stream from its task id and place in the tree, so with
            # a fixed step a task samples the same tokens in whichever batch (or resumed run) it lands.
            first, last = len(tasks) - len(todo) + c0 + 1, len(tasks) - len(todo) + c0 + len(chunk)

            def on_turn(turn, tree, first=first, last=last):
                compiled = _count_compiles(watch, turn, timings)
                bar.note(f"tasks {first}-{last}: Iter-{turn} generated and run "
                         f"({int((tree.turn == turn).sum())} attempts, {int(tree.succeeded.sum())} solved so far"
                         + (f", {compiled} program(s) compiled" if compiled else "") + ")")

            tree, stats = run_rollout(chunk, generator, executor, cfg, templates=templates, step=0, on_turn=on_turn,
                                      success=lambda r, t: is_solved(r, t, score), check=flag.check)
            wall = time.perf_counter() - t0
            recs = [_task_record(tree, j, t, settings, chash, wall / len(chunk), resumable.get(t.task_id))
                    for j, t in enumerate(chunk)]
            if partial_path:
                append_records(partial_path, recs)
            done.update({r["task_id"]: r for r in recs})
            timings["generate_s"] += stats.generate_s
            timings["prefill_s"] += stats.prefill_s
            timings["decode_s"] += stats.decode_s
            timings["execute_s"] += stats.execute_s
            timings["prompt_tokens"] += stats.prompt_tokens
            timings["tasks_evaluated"] += len(chunk)
            so_far = summarize([done[t.task_id] for t in tasks if t.task_id in done], iters, n)["pass_at_1"]
            bar.update(len(chunk), {"iter1": so_far[0], f"iter{iters}": so_far[-1]})
    except Preempted:
        finished = sum(t.task_id in done for t in tasks)
        flag.skip_teardown()
        # The message is the exception's (murphy-eval prints it as its last line).
        raise Preempted(f"preempted: {finished} of {len(tasks)} tasks evaluated, the batch in flight was abandoned; "
                        f"{kept}") from None
    finally:
        bar.close()
        flag.uninstall()
        watch.uninstall()
    timings["this_run_s"] = time.perf_counter() - t_start
    timings["attempts_replayed"] = getattr(generator, "replayed", 0)
    records = [done[t.task_id] for t in tasks]
    # Task time summed over all runs that contributed records (a resumed evaluation included).
    timings["task_time_s"] = float(sum(r.get("time_s", 0.0) for r in records))
    return EvalReport(label, settings, full, chash, records, timings, partial_path)


def _count_compiles(watch: CompileWatch, turn: int, timings: dict) -> int:
    """Add what compiled since the last level to Iter-``turn``'s counts; log the programs past Iter-1."""
    got = watch.take()
    count = int(got["compile/count"])
    timings["compiles_per_iter"][turn - 1] += count
    timings["compile_s_per_iter"][turn - 1] += got["compile/seconds"]
    if count and turn > 1:
        timings["compiled_after_iter1"] = sorted(set(timings["compiled_after_iter1"]) | set(watch.last_programs))
        log.info("Iter-%d compiled %d program(s) in %.1fs: %s", turn, count, got["compile/seconds"],
                 ", ".join(sorted(set(watch.last_programs))))
    return count


def _task_record(tree, j: int, task: CodeTask, settings: EvalSettings, chash: str, time_s: float,
                 previous: dict | None = None) -> dict:
    """One task's chains (every attempt with its verdict, code, response and feedback) as a JSON-able dict.

    ``previous``: the stored record this one continues; replayed attempts keep its token counts and time.
    """
    chains = chains_of_task(tree, j)
    out_chains = []
    for c, chain in enumerate(chains):
        old = previous["chains"][c] if previous and c < len(previous["chains"]) else []
        attempts = []
        for k, node in enumerate(chain):
            meta = tree.meta[node]
            tokens = int(len(tree.response_ids[node]))
            if k < len(old) and old[k]["response"] == tree.response_text[node]:
                tokens = old[k].get("tokens", tokens)  # a replayed answer: no token ids this time
            attempts.append({"turn": int(tree.turn[node]), "solved": bool(tree.succeeded[node]),
                             "status": meta.get("status", ""), "n_passed": meta.get("n_passed", 0),
                             "n_tests": meta.get("n_tests", 0), "extract": meta.get("extract", ""),
                             "tokens": tokens, "code": tree.code[node],
                             "response": tree.response_text[node], "feedback": tree.feedback[node]})
        out_chains.append(attempts)
    time_s += previous.get("time_s", 0.0) if previous else 0.0
    solved = [solved_at(tree, c) for c in chains]
    skipped = not chains  # the turn-1 prompt did not fit the generator: every chain counts as failed
    if skipped:
        solved, out_chains = [None] * settings.n, [[] for _ in range(settings.n)]
    return {"config_hash": chash, "task_id": task.task_id, "difficulty": task.difficulty, "source": task.source,
            "scored_on": scoring_tests(task, settings.score), "n": settings.n, "iters": settings.iters,
            "skipped": skipped, "solved_at": solved, "chains": out_chains, "time_s": time_s}
