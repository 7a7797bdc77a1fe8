"""The training loop: tasks -> rollout trees -> credit/advantages/pruning -> batches -> train_step -> metrics -> checkpoint.

Everything that can fail on bad input (config, dataset, model path) fails in
``Trainer.__init__`` before anything is compiled. A run resumes from the newest
complete checkpoint in its workdir: parameters, optimizer state, update count,
PRNG key and data position, so that it continues exactly as an uninterrupted
run would (rollout sampling streams are derived from the run seed and step).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
import time

import jax
import numpy as np

from murphy_jax.data.prompts import PromptTemplates
from murphy_jax.data.sources import load_tasks
from murphy_jax.errors import MurphyUserError
from murphy_jax.execution import Executor
from murphy_jax.models import build_model, export_hf, make_mesh
from murphy_jax.models.decoder import abstract_decoder
from murphy_jax.models.sharding import param_shardings
from murphy_jax.rl.accounting import step_counts
from murphy_jax.rl.batching import pack
from murphy_jax.rl.packing import empty_micro_batch, pack_rows
from murphy_jax.rl.scoring import score_tree
from murphy_jax.rl.tree_metrics import tree_metrics
from murphy_jax.rollout import ModelGenerator, run_rollout
from murphy_jax.sampling import Sampler
from murphy_jax.train import config as run_config
from murphy_jax.train import distributed as dist
from murphy_jax.train.checkpoint import Checkpointer, Preempted, PreemptionFlag, newest_complete_step
from murphy_jax.train.data import TaskStream
from murphy_jax.train.metrics import MetricsWriter, Progress, close_step_times
from murphy_jax.train.policy import load_policy
from murphy_jax.utils.compiles import CompileWatch
from murphy_jax.train.state import init_state, lr_schedule, make_optimizer, state_shardings
from murphy_jax.train.step import (TRAIN_KEYS, check_response_window, is_packed, make_train_step,
                                   micro_batch_shardings, reference_logprobs, split_micro_batches)

log = logging.getLogger(__name__)


class TrainingError(RuntimeError):
    """Training cannot continue (non-finite update, executor failure); the last good checkpoint is intact."""


class Trainer:
    """One MURPHY (or GRPO, with rollout.turns=1) run in ``workdir``."""

    def __init__(self, config, workdir: str, *, reference_config=None):
        # The input (config, tasks, mesh, model) is checked before the first write, and a workdir this
        # call created is removed again when it fails: bad input never leaves a half-made run behind.
        workdir = os.path.abspath(workdir)
        created = not os.path.lexists(workdir)
        try:
            self._init(config, workdir, reference_config)
        except BaseException:
            if created:
                shutil.rmtree(workdir, ignore_errors=True)
            raise

    def _init(self, config, workdir: str, reference_config) -> None:
        run_config.validate(config, reference_config)
        self.c = config
        self.workdir = workdir
        self.is_main = jax.process_index() == 0
        report = load_tasks(config.data.train, on_bad_row=str(config.data.on_bad_row),
                            **({"limit": int(config.data.limit)} if config.data.limit else {}))
        self.tasks = report.tasks
        self.data_report = report.summary() if hasattr(report, "summary") else ""
        self.stream = TaskStream(self.tasks, int(config.data.tasks_per_step), seed=int(config.seed),
                                 shuffle=bool(config.data.shuffle), process_id=jax.process_index(),
                                 num_processes=jax.process_count())
        self.templates = PromptTemplates.from_config(config.prompts)
        self.rollout_cfg = run_config.rollout_config(config)
        self.exec_cfg = run_config.executor_config(config)
        self.mesh = make_mesh(int(config.mesh.data), int(config.mesh.fsdp), int(config.mesh.tensor))
        run_config.check_mesh(config, self.mesh, jax.process_count())
        try:  # the run's first write (random:<variant> models are built inside the workdir)
            os.makedirs(self.workdir, exist_ok=True)
            tempfile.TemporaryFile(dir=self.workdir).close()  # permission bits do not stop root; writing does
        except OSError as e:
            raise MurphyUserError(f"workdir {self.workdir}: cannot write there ({e.strerror or e})") from None
        self.model, self.tokenizer, self.model_path = load_policy(config.model, self.workdir, mesh=self.mesh,
                                                                  seed=int(config.seed))
        self._write_config()
        self.mcfg = self.model.config
        self.total_updates = int(config.train.steps * config.train.ppo_epochs * config.train.minibatches)
        self.tx = make_optimizer(config.optim, self.total_updates)
        self.schedule = lr_schedule(config.optim, self.total_updates)
        self.state = init_state(self.model.params(), self.tx, int(config.seed))
        self.model = None  # its arrays now belong to the state, which train_step donates
        self.shardings = state_shardings(self.state)
        # The frozen reference policy exists only when the KL term is on.
        self.ref_params = None
        if config.rl.loss.beta > 0:
            # Host copy (device memory for one more model only while the reference pass runs) or device copy.
            self.ref_params = (dist.to_host(self.state.params) if config.train.reference_on_host
                               else jax.tree.map(lambda x: x.copy(), self.state.params))
        self.temperature = float(config.sampling.temperature) or 1.0
        loss_kw = dict(eps_low=float(config.rl.loss.eps_low), eps_high=float(config.rl.loss.eps_high),
                       aggregation=str(config.rl.loss.aggregation), beta=float(config.rl.loss.beta),
                       norm_len=float(config.rl.loss.norm_len or config.sampling.max_new_tokens))
        self.mb_shardings = micro_batch_shardings(self.mesh, with_ref=config.rl.loss.beta > 0)
        # A response is at most max_new_tokens long, so that many positions per row hold every trained token.
        self.response_window = int(config.sampling.max_new_tokens) if config.train.response_logits_only else 0
        self.train_step = make_train_step(self.mcfg, self.tx, loss_kw=loss_kw, temperature=self.temperature,
                                          logits_chunk=int(config.train.logits_chunk),
                                          state_shardings=self.shardings, mesh=self.mesh,
                                          with_ref=self.ref_params is not None,
                                          response_window=self.response_window, schedule=self.schedule)
        # Generation is host-local: each process samples its own trees on its own devices.
        self.gen_mesh = dist.local_mesh(self.mesh)
        self.local_shardings = (param_shardings(abstract_decoder(self.mcfg), self.gen_mesh)
                                if dist.multiprocess() else None)
        # A warmed-up run keeps its pool at max_rows rows (no power-of-two shrinking): its programs are then one
        # set per prompt bucket, which warm-up compiles in a fraction of the time the shrinking pool's would take.
        self.sampler = Sampler.for_tokenizer(self.mcfg, self.tokenizer, mesh=self.gen_mesh,
                                             max_rows=int(config.sampling.max_rows), chunk=int(config.sampling.chunk),
                                             shrink_pool=not bool(config.sampling.get("warm_up", False)))
        self.generator = ModelGenerator(
            self.sampler, self.tokenizer, self.state.params, max_new_tokens=int(config.sampling.max_new_tokens),
            temperature=float(config.sampling.temperature), top_p=float(config.sampling.top_p),
            top_k=int(config.sampling.top_k), max_prompt_tokens=int(config.sampling.max_prompt_tokens),
            templates=self.templates, stop_strings=tuple(config.sampling.stop_strings))
        self.ckpt = Checkpointer(os.path.join(self.workdir, "checkpoints"), keep=int(config.checkpoint.keep),
                                 async_save=bool(config.checkpoint.async_save),
                                 min_free_gb=float(config.checkpoint.min_free_gb))
        self.step = 0
        self.nonfinite_skipped = 0
        self._restore()
        self.executor = None
        self._compiles = None  # a CompileWatch while run() runs

    # ----------------------------------------------------------------------------------------
    def _write_config(self) -> None:
        """``workdir/config.json`` (process 0), replaced atomically so that it is never half-written."""
        if self.is_main:
            path = os.path.join(self.workdir, "config.json")
            with open(path + ".tmp", "w") as f:
                json.dump(self.c.to_dict(), f, indent=2, sort_keys=True, default=str)
            os.replace(path + ".tmp", path)

    def _restore(self) -> None:
        """Resume from the newest readable checkpoint (a damaged newer one is skipped with a warning)."""

        def check_meta(meta: dict, step: int) -> None:
            # A meta that parses but lacks what resuming needs is as damaged as one that does not parse.
            if not isinstance(meta, dict) or meta.get("rl_step") != step:
                raise ValueError(f"meta's rl_step is {meta.get('rl_step') if isinstance(meta, dict) else meta!r}, "
                                 f"not {step}")
            pos = (meta.get("data_positions") or {}).get(str(jax.process_index()))
            if not isinstance(pos, dict) or not all(isinstance(pos.get(k), int) for k in ("epoch", "cursor")):
                raise ValueError(f"meta has no valid data position for process {jax.process_index()}")

        found = self.ckpt.restore_readable(self.state, check_meta)
        if found is None:
            return
        self.state, meta, _ = found
        self.step = int(meta["rl_step"])
        positions = meta["data_positions"]
        self.stream.load_state_dict(positions[str(jax.process_index())])
        self.nonfinite_skipped = int(meta.get("nonfinite_skipped", 0))
        log.info("resumed from %s at step %d", self.ckpt.directory, self.step)

    def _save(self, force: bool = False) -> float:
        t0 = time.perf_counter()
        positions = {str(i): pos for i, pos in enumerate(dist.allgather_json(self.stream.state_dict()))}
        meta = {"rl_step": self.step, "data_positions": positions, "nonfinite_skipped": self.nonfinite_skipped,
                "model_path": self.model_path}
        self.ckpt.save(self.step, self.state, meta, force=force)
        return time.perf_counter() - t0

    # ----------------------------------------------------------------------------------------
    def run(self, on_step=None) -> dict:
        """Train until ``train.steps`` (or SIGTERM/SIGINT); returns the last step's metrics.

        ``on_step(step, metrics)`` is called after every step (live plots in notebooks).
        On SIGTERM or SIGINT the step in flight is abandoned (see ``train_one_step``),
        the last completed step is checkpointed unless it already is, and the metrics
        returned carry ``preempted=1.0``; all within ``train.preempt_grace_s``, after
        which a watchdog ends the process (exit 75) with the newest checkpoint intact.
        A preempted Trainer is spent (its in-memory state may be mid-step): resume
        with a new one, which restores the checkpoint.
        """
        c = self.c
        ckpt_dir = self.ckpt.directory

        def on_timeout() -> str:
            step = newest_complete_step(ckpt_dir)
            return (f"rerun the same command to resume from step {step} (newest complete checkpoint in {ckpt_dir})"
                    if step is not None else "no checkpoint was written yet; rerunning starts over")

        flag = self._preempt = PreemptionFlag(float(c.train.preempt_grace_s), on_timeout=on_timeout).install()
        # The newest step on disk (or being written), never saved twice: after a resume, the restored one.
        self._saved_step = self.step if self.step > 0 else None
        self._compiles = CompileWatch().install()
        writer = MetricsWriter(self.workdir, tensorboard=bool(c.log.tensorboard), enabled=self.is_main)
        progress = Progress(int(c.train.steps), self.step, enabled=bool(c.log.progress) and self.is_main)
        last: dict = {}
        try:
            with Executor(self.exec_cfg) as executor:
                self.executor = executor
                log.info("executor isolation layers: %s", executor.layers)
                # Issue 16: compile every generation shape before step 1 (Sampler.warm_up of the pooled sampler),
                # so that no later step compiles. Opt-in through sampling.warm_up (the sampler's config key).
                if c.sampling.get("warm_up", False) and hasattr(self.generator, "warm_up"):
                    self.generator.params = dist.to_local(self.state.params, self.local_shardings)
                    ns = (self.rollout_cfg.group_size,) + ((self.rollout_cfg.k,) if self.rollout_cfg.turns > 1 else ())
                    shapes = self.generator.warm_up(ns)
                    warm = self._compiles.take()
                    log.info("sampler warm-up: %d shape(s), %d program(s) compiled in %.1fs", shapes,
                             int(warm["compile/count"]), warm["compile/seconds"])
                while self.step < int(c.train.steps):
                    t_step = time.perf_counter()
                    try:
                        metrics = self.train_one_step()
                    except Preempted:  # every host abandoned this step together
                        self._save_on_preemption()
                        last["preempted"] = 1.0
                        break
                    last = metrics
                    self.step += 1
                    # Every host must stop at the same step, whichever received the signal.
                    preempted = bool(dist.agree_max(int(flag.requested)))
                    if self.step % int(c.checkpoint.every) == 0 or self.step == int(c.train.steps) or preempted:
                        last["time/checkpoint_s"] = self._save(force=True)  # only on steps that save
                        self._saved_step = self.step
                    close_step_times(last, time.perf_counter() - t_step)
                    if self.step % int(c.log.every) == 0 or self.step == int(c.train.steps):
                        writer.write(self.step, last)
                    progress.update({k.split("/")[-1]: last[k] for k in ("reward/mean", "train/loss") if k in last})
                    if on_step is not None:
                        on_step(self.step, last)
                    if preempted:
                        log.warning("preempted: checkpoint at step %d written; rerun the same command to resume",
                                    self.step)
                        last["preempted"] = 1.0
                        break
            self.ckpt.wait()
            if self.step >= int(c.train.steps) and c.train.export_hf:
                self.export(os.path.join(self.workdir, "hf_export"))
        finally:
            progress.close()
            writer.close()
            self.ckpt.close()
            self._compiles.uninstall()
            self._compiles = self._preempt = None
            if last.get("preempted"):
                flag.skip_teardown()
            flag.uninstall()  # after the last save is on disk: the watchdog covers it
        return last

    def _save_on_preemption(self) -> None:
        """Checkpoint the last completed step unless it is on disk already (or is the untrained step 0)."""
        if self.step > 0 and self._saved_step != self.step:
            t0 = time.perf_counter()
            self._save(force=True)
            self.ckpt.wait()
            self._saved_step = self.step
            log.warning("preempted: saved step %d in %.1fs", self.step, time.perf_counter() - t0)
        resume = (f"resume from step {self.step}" if self._saved_step is not None
                  else "no checkpoint yet; rerunning starts over")
        log.warning("preempted: step %d abandoned; rerun the same command to %s", self.step + 1, resume)

    def export(self, out_dir: str) -> str:
        """The current policy as an HF directory (tokenizer included); every host must call it, process 0 writes."""
        params = dist.to_host(self.state.params) if dist.multiprocess() else self.state.params
        if not self.is_main:
            return out_dir
        return export_hf(build_model(self.mcfg, params), out_dir, tokenizer=self.tokenizer, base_config=None)

    # ----------------------------------------------------------------------------------------
    def train_one_step(self) -> dict:
        """One RL step: rollout, scoring, optimizer updates; returns its metrics.

        Raises :class:`Preempted` on every host together when a stop was requested
        (``self._preempt``, set by ``run``) and the step is abandoned. It is abandoned
        during the rollout, or between micro-batches before the step's first
        optimizer update; later only when the last completed step is already
        checkpointed, because ``train_step`` donates the state, so the last
        completed step could not be saved any more (otherwise the step's remaining
        updates run and ``run`` saves the step). The data position is put back, so
        the abandoned step is redone identically on resume.
        """
        position = dataclasses.replace(self.stream.position)
        self._applied = False
        try:
            return self._step_body()
        except Preempted:
            self.stream.position = position
            raise

    def _stop_requested(self) -> bool:
        flag = getattr(self, "_preempt", None)
        return flag is not None and flag.requested

    def _rollout(self, tasks):
        """The step's rollout, or :class:`Preempted` on every host when any host was asked to stop."""
        flag = getattr(self, "_preempt", None)
        abandoned = False
        log.info("step %d: rollout of %d tasks", self.step + 1, len(tasks))
        try:
            out = run_rollout(tasks, self.generator, self.executor, self.rollout_cfg, templates=self.templates,
                              step=self.step, check=None if flag is None else flag.check)
        except Preempted:
            abandoned = True
        except Exception as e:
            if not self._stop_requested():
                raise
            # A signal sent to the whole process tree can take executor workers down with it: that is preemption.
            log.warning("rollout failed after the stop request (%s); treating it as abandoned", e)
            abandoned = True
        # Every host votes exactly once per step (finished or abandoned), so all stop at the same step.
        if dist.agree_max(int(abandoned or self._stop_requested())):
            raise Preempted()
        return out

    def _step_body(self) -> dict:
        c = self.c
        # Seconds of this step's device work in the updates, added by _one_update (time/<part>_s).
        self._times = {"train_fwd_bwd": 0.0, "optimizer": 0.0}
        if self.ref_params is not None:
            self._times["reference"] = 0.0
        tasks = self.stream.next_batch()
        self.generator.params = dist.to_local(self.state.params, self.local_shardings)
        retries_before = self.executor.infra_retries
        t0 = time.perf_counter()
        tree, rstats = self._rollout(tasks)
        t_rollout = time.perf_counter() - t0
        t0 = time.perf_counter()
        score_tree(tree, strategy=c.rl.credit.strategy, gamma=float(c.rl.credit.gamma),
                   normalize_std=bool(c.rl.advantage.normalize_std), eps=float(c.rl.advantage.eps),
                   inter_keep=int(c.rl.prune.inter_keep), intra_keep=int(c.rl.prune.intra_keep),
                   keep_root_group=bool(c.rl.prune.keep_root_group), drop_zero_spread=bool(c.rl.prune.drop_zero_spread))
        t_credit = time.perf_counter() - t0
        self._dump_tree(tree)
        t0 = time.perf_counter()
        train_metrics = self._updates(tree)
        t_train = time.perf_counter() - t0
        metrics = {f"train/{k}": v for k, v in train_metrics.items()}
        metrics.update(self._tree_metrics(dist.merge_trees(tree)))
        gen_tokens = rstats.generated_tokens
        device_train = sum(self._times.values())
        metrics.update({f"time/{k}_s": v for k, v in self._times.items()})
        metrics.update({
            # The parts of the step (metrics.STEP_TIME_PARTS); run() adds checkpoint, other and the step total.
            "time/prefill_s": rstats.prefill_s, "time/decode_s": rstats.decode_s,
            "time/sample_host_s": max(0.0, rstats.generate_s - rstats.prefill_s - rstats.decode_s),
            "time/execute_s": rstats.execute_s,
            "time/rollout_host_s": max(0.0, t_rollout - rstats.generate_s - rstats.execute_s),
            "time/credit_s": t_credit, "time/batch_prep_s": max(0.0, t_train - device_train),
            # Sums of parts, kept for continuity: generation = prefill + decode + sample_host, and so on.
            "time/generate_s": rstats.generate_s, "time/rollout_s": t_rollout, "time/train_step_s": t_train,
            "throughput/gen_tokens_per_s": gen_tokens / max(rstats.generate_s, 1e-9),
            "throughput/executions_per_s": rstats.executor_calls / max(rstats.generate_s + rstats.execute_s, 1e-9),
            "rollout/no_code": rstats.no_code, "rollout/skipped_tasks": rstats.skipped_tasks,
            "rollout/skipped_expansions": rstats.skipped_expansions, "rollout/infra_retries": rstats.infra_retries,
            "rollout/job_retries": self.executor.infra_retries - retries_before,
            "train/nonfinite_skipped": self.nonfinite_skipped,
        })
        # Tree metrics above are already global (merged trees); counters and timings combine per host.
        if self._compiles is not None:  # what this step compiled (0 in the steady state)
            metrics.update(self._compiles.take())
            self.compiled_programs = list(self._compiles.last_programs)  # this step's, by jit name (benchmarks, tests)
            if metrics["compile/count"] and self.step >= 2:
                log.info("step %d compiled %d program(s): %s", self.step + 1, int(metrics["compile/count"]),
                         ", ".join(sorted(set(self._compiles.last_programs))))
        host = {k: v for k, v in metrics.items() if k.startswith(("time/", "throughput/", "rollout/", "compile/"))}
        metrics.update(dist.reduce_metrics(dist.allgather_json(host)))
        return metrics

    @staticmethod
    def _tree_metrics(tree) -> dict:
        """Rewards and pass rates per turn, tree metrics and compute counts of (all hosts') trees."""
        metrics = dict(tree_metrics(tree))
        metrics.update(step_counts(tree).as_dict())
        executed = np.isfinite(tree.reward)
        metrics["reward/mean"] = float(np.mean(tree.reward[executed])) if executed.any() else 0.0
        for t in range(1, tree.num_turns + 1):
            at = executed & (tree.turn == t)
            if at.any():
                metrics[f"reward/turn{t}_mean"] = float(tree.reward[at].mean())
                metrics[f"pass/turn{t}_rate"] = float(tree.succeeded[at].mean())
        return metrics

    def _dump_tree(self, tree) -> None:
        mode = self.c.log.dump_trees
        if mode == "none":
            return
        d = os.path.join(self.workdir, "trees")
        os.makedirs(d, exist_ok=True)
        name = "last" if mode == "last" else f"step_{self.step:06d}"
        name += f".p{jax.process_index()}.jsonl" if dist.multiprocess() else ".jsonl"
        tree.dump_jsonl(os.path.join(d, name), include_tokens=False)

    def _updates(self, tree) -> dict:
        """ppo_epochs x minibatches optimizer updates on the kept nodes; returns averaged metrics.

        ``rl.batch.layout="packed"`` (``murphy_jax.rl.packing``): every host
        packs its nodes into [micro_batch_size, pack_len] micro-batches (nodes
        with the same prompt share one copy of it); the hosts agree on the
        number of micro-batches and pad with empty ones. ``"bucketed"``
        (``murphy_jax.rl.batching``): one row per node, padded to its length
        bucket; the hosts agree on the count per bucket. Either way each
        micro-batch's rows from all hosts form one global micro-batch, and the
        loss denominators (trained tokens and original sequences) are summed
        over the hosts, so that the update is that of one big batch.
        """
        c = self.c
        kept = np.flatnonzero(tree.kept & (tree.response_lens > 0))
        if dist.agree_max(len(kept)) == 0:
            return {"updates": 0.0}
        rng = np.random.default_rng([int(c.seed), self.step, jax.process_index()])
        sums: dict[str, float] = {}
        updates, dropped = 0, 0
        for _ in range(int(c.train.ppo_epochs)):
            order = rng.permutation(kept) if c.train.minibatches > 1 else kept
            for part in np.array_split(order, int(c.train.minibatches)):
                if not dist.agree_max(len(part)):
                    continue
                micro, norms, lost = self._micro_batches(tree, np.sort(part))
                dropped += lost
                m = self._one_update(micro, norms)
                updates += 1
                for k, v in m.items():
                    sums[k] = sums.get(k, 0.0) + v
        out = {k: v / max(updates, 1) for k, v in sums.items()}
        out.update(updates=float(updates), dropped=float(dropped))
        return out

    def _micro_batches(self, tree, nodes: np.ndarray):
        """This host's micro-batches for one update, aligned with every other host's; plus norms and drops."""
        c = self.c
        if c.rl.batch.layout == "packed":
            micro, lost = self._packed_micro_batches(tree, nodes)
            return micro, self._norms(micro), lost
        mb, buckets = int(c.rl.batch.micro_batch_size), sorted(int(b) for b in c.rl.batch.buckets)
        by_len: dict[int, list] = {b: [] for b in buckets}
        lost = 0
        if len(nodes):
            packed = pack([tree.prompt_ids[i] for i in nodes], [tree.response_ids[i] for i in nodes],
                          [tree.logprobs[i] for i in nodes], tree.advantage[nodes], buckets=buckets,
                          micro_batch_size=mb, node_index=nodes, pad_id=self._pad_id(), overflow=c.rl.batch.overflow)
            lost = len(packed.dropped)
            for batch in packed.batches:
                by_len[batch["input_ids"].shape[1]] = split_micro_batches(batch, mb)
        counts = {b: len(v) for b, v in by_len.items()}
        agreed = {b: max(h[str(b)] for h in dist.allgather_json({str(k): v for k, v in counts.items()}))
                  for b in buckets}
        micro = []
        for b in buckets:
            if agreed[b] > counts[b]:  # another host has more rows of this length: join with empty rows
                empty = self._empty_rows(b)
                by_len[b] = by_len[b] + split_micro_batches(empty, mb, agreed[b] - counts[b])
            micro += by_len[b]
        return micro, self._norms(micro), lost

    def _packed_micro_batches(self, tree, nodes: np.ndarray):
        """This host's packed micro-batches (as many as the host with the most), and its dropped node count."""
        b = self.c.rl.batch
        micro, lost = [], 0
        if len(nodes):
            packed = pack_rows([tree.prompt_ids[i] for i in nodes], [tree.response_ids[i] for i in nodes],
                               [tree.logprobs[i] for i in nodes], tree.advantage[nodes], pack_len=int(b.pack_len),
                               micro_batch_size=int(b.micro_batch_size), max_rows=int(b.pack_rows),
                               slot_len=self._slot_len(), share_prefix=bool(b.share_prefix), node_index=nodes,
                               pad_id=self._pad_id(), overflow=str(b.overflow))
            micro, lost = packed.micro_batches(), len(packed.dropped)
        count = dist.agree_max(len(micro))
        return micro + [self._empty_rows()] * (count - len(micro)), lost

    def _slot_len(self) -> int:
        """Trained positions per node of a packed row: the longest response (sampling.max_new_tokens)."""
        return int(self.c.sampling.max_new_tokens)

    @staticmethod
    def _norms(micro: list[dict]) -> dict:
        """The update's loss denominators over all hosts: trained tokens and trained original sequences."""
        # A [.., T] row (bucketed) or a [.., slot] slot (packed) is one original sequence.
        tokens = sum(int(m["loss_mask"].sum()) for m in micro)
        seqs = sum(int(m["loss_mask"].any(-1).sum()) for m in micro)
        return {"num_tokens": np.float32(dist.agree_sum(tokens)), "num_seqs": np.float32(dist.agree_sum(seqs))}

    def _empty_rows(self, bucket: int | None = None) -> dict:
        """Nothing to train, in this run's layout: zero [0, bucket] rows (bucketed), or one empty packed
        micro-batch; a host with fewer rows than another still joins every global micro-batch with these."""
        b = self.c.rl.batch
        if b.layout == "packed":
            return empty_micro_batch(int(b.micro_batch_size), int(b.pack_len), (int(b.pack_rows), self._slot_len()))
        one = pack([[0]], [[0]], [[0.0]], [0.0], buckets=[bucket], micro_batch_size=1).batches[0]
        return {k: v[:0] for k, v in one.items()}

    def _may_abandon(self) -> bool:
        """Whether every host agrees to abandon the step now (see ``train_one_step`` for when it may)."""
        if getattr(self, "_applied", False) and getattr(self, "_saved_step", None) != self.step:
            return False
        return bool(dist.agree_max(int(self._stop_requested())))

    def _one_update(self, micro: list[dict], norms: dict) -> dict:
        acc = None
        for mb in micro:
            if self._may_abandon():
                raise Preempted()
            if not is_packed(mb):  # a packed row's slots hold whole responses (pack_rows checks them)
                check_response_window(mb["loss_mask"], self.response_window)
            # The device arrays of either layout (bucketed rows carry zero-width PACK_KEYS), never node_index.
            gmb = dist.global_batch({k: mb[k] for k in TRAIN_KEYS if k in mb}, self.mb_shardings)
            if self.ref_params is not None:
                t0 = time.perf_counter()
                gmb["ref_logprobs"] = jax.block_until_ready(
                    jax.device_put(self._reference(gmb), self.mb_shardings["ref_logprobs"]))
                self._add_time("reference", t0)
            t0 = time.perf_counter()
            if acc is None:
                acc = self.train_step.init_acc(self.state.params, gmb)
            # Blocking here times the device work of each micro-batch (the step timing's train_fwd_bwd part).
            acc = jax.block_until_ready(self.train_step.accumulate(self.state.params, acc, gmb, norms))
            self._add_time("train_fwd_bwd", t0)
        t0 = time.perf_counter()
        self.state, metrics = self.train_step.apply(self.state, acc)
        self._applied = True
        metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
        self._add_time("optimizer", t0)
        if metrics["finite"] < 1.0:
            if self.c.train.on_nonfinite == "stop":
                raise TrainingError(
                    f"non-finite loss or gradient at step {self.step} (loss={metrics['loss']}, grad_norm="
                    f"{metrics['grad_norm']}); the update was not applied and the last good checkpoint "
                    f"(step {self.ckpt.latest_step()}) is intact; set train.on_nonfinite='skip' to skip such batches")
            self.nonfinite_skipped += 1
            log.warning("non-finite update skipped at step %d", self.step)
        return metrics

    def _add_time(self, part: str, t0: float) -> None:
        """Add the seconds since ``t0`` to this step's ``time/<part>_s``."""
        times = self.__dict__.setdefault("_times", {})
        times[part] = times.get(part, 0.0) + time.perf_counter() - t0

    def _reference(self, gmb: dict):
        ref_params = self.ref_params
        if self.c.train.reference_on_host:
            ref_params = jax.tree.map(lambda h, d: jax.device_put(h, d.sharding), self.ref_params, self.state.params)
        return reference_logprobs(ref_params, gmb, cfg=self.mcfg, temperature=self.temperature)

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return int(pad if pad is not None else self.tokenizer.eos_token_id or 0)
