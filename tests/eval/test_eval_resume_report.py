"""Resumable partial results, and the report (JSON schema, markdown table, PNG plot)."""
import json

import numpy as np
import pytest

from murphy_jax.eval import evaluate, markdown_table, write_report
from murphy_jax.eval.partial import append_records, read_partial
from murphy_jax.rollout import ScriptedGenerator


def fenced(code):
    return f"```python\n{code}\n```"


def wrong_then_right(req, k):
    t = req.task
    return fenced(t.prompt + "    return None\n") if req.turn == 1 else fenced(t.reference_solution)


class Counting(ScriptedGenerator):
    """Records the task of every request; raises on call number ``fail_on`` (a run killed mid-evaluation)."""

    def __init__(self, respond, fail_on=None):
        super().__init__(respond)
        self.calls, self.tasks, self.turns, self.fail_on = 0, [], [], fail_on

    def generate(self, requests, n, **kw):
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt("killed")
        self.tasks += [r.task.task_id for r in requests]
        self.turns += [r.turn for r in requests]
        return super().generate(requests, n, **kw)


def _essence(report):
    return [(r["task_id"], r["solved_at"], [[a["code"] for a in c] for c in r["chains"]]) for r in report.records]


def test_interrupted_evaluation_resumes_where_it_stopped(executor, humaneval_tasks, tmp_path):
    tasks = humaneval_tasks[:10]
    kw = dict(iters=2, n=1, batch_tasks=4, progress=False, config={"model": "scripted"})
    partial = str(tmp_path / "partial.jsonl")
    first = Counting(wrong_then_right, fail_on=3)  # batch 1 = calls 1-2 (turns 1, 2); dies at batch 2, turn 1
    with pytest.raises(KeyboardInterrupt):
        evaluate(tasks, first, executor, partial_path=partial, **kw)
    with open(partial) as f:
        assert [json.loads(line)["task_id"] for line in f] == [t.task_id for t in tasks[:4]]

    second = Counting(wrong_then_right)
    resumed = evaluate(tasks, second, executor, partial_path=partial, **kw)
    assert set(second.tasks) == {t.task_id for t in tasks[4:]}  # nothing done twice
    assert resumed.timings["tasks_resumed"] == 4 and resumed.timings["tasks_evaluated"] == 6
    fresh = evaluate(tasks, Counting(wrong_then_right), executor, **kw)
    assert _essence(resumed) == _essence(fresh) and resumed.pass_at_1 == fresh.pass_at_1 == [0.0, 1.0]

    third = Counting(wrong_then_right)
    again = evaluate(tasks, third, executor, partial_path=partial, **kw)
    assert third.calls == 0 and _essence(again) == _essence(fresh)

    # Another config (here: the scoring rule) has another hash: its tasks are evaluated, the old lines stay unused.
    other = Counting(wrong_then_right)
    evaluate(tasks, other, executor, partial_path=partial, **dict(kw, score="all"))
    assert len(set(other.tasks)) == 10
    assert len(read_partial(partial, fresh.config_hash)) == 10


def wrong_wrong_right(req, k):
    t = req.task
    return fenced(t.prompt + f"    return {req.turn}\n") if req.turn < 3 else fenced(t.reference_solution)


def test_more_iterations_continue_stored_chains_and_fewer_reuse_them(executor, humaneval_tasks, tmp_path):
    tasks = humaneval_tasks[:6]
    kw = dict(n=2, batch_tasks=4, progress=False)
    partial = str(tmp_path / "partial.jsonl")
    two = evaluate(tasks, ScriptedGenerator(wrong_wrong_right), executor, iters=2, partial_path=partial, **kw)
    assert two.pass_at_1 == [0.0, 0.0]

    # Iter-3 continues every chain: turns 1-2 are replayed from the file, only turn 3 is generated.
    more = Counting(wrong_wrong_right)
    three = evaluate(tasks, more, executor, iters=3, partial_path=partial, **kw)
    assert more.turns == [3] * 12  # one turn-3 request per chain: 6 tasks x 2 chains
    assert three.timings["tasks_continued"] == 6 and three.timings["attempts_replayed"] == 6 * 2 * 2
    fresh = evaluate(tasks, ScriptedGenerator(wrong_wrong_right), executor, iters=3, **kw)
    assert _essence(three) == _essence(fresh) and three.pass_at_1 == [0.0, 0.0, 1.0]
    assert three.config_hash == two.config_hash

    # Fewer iterations are read off the longest records: nothing is generated.
    fewer = Counting(wrong_wrong_right)
    one = evaluate(tasks, fewer, executor, iters=1, partial_path=partial, **kw)
    assert fewer.calls == 0 and one.pass_at_1 == [0.0]
    assert all(len(c) == 1 for r in one.records for c in r["chains"])
    # A record whose chains all succeeded is complete for any number of iterations.
    four = Counting(wrong_wrong_right)
    assert evaluate(tasks, four, executor, iters=4, partial_path=partial, **kw).pass_at_1 == [0.0, 0.0, 1.0, 1.0]
    assert four.calls == 0


def test_a_line_cut_short_by_a_crash_is_skipped_and_appends_stay_readable(tmp_path):
    path = str(tmp_path / "p.jsonl")
    append_records(path, [{"config_hash": "h", "task_id": "a", "solved_at": [1]}])
    with open(path, "a") as f:
        f.write('{"config_hash": "h", "task_id": "b", "sol')  # killed mid-write: no newline
    assert set(read_partial(path, "h")) == {"a"}
    append_records(path, [{"config_hash": "h", "task_id": "c", "solved_at": [None]},
                          {"config_hash": "other", "task_id": "d", "solved_at": [1]}])
    assert set(read_partial(path, "h")) == {"a", "c"} and set(read_partial(path, "other")) == {"d"}


MODEL_KEYS = {"label": str, "config_hash": str, "config": dict, "benchmark": str, "n": int, "iters": int,
              "temperature": float, "score": str, "tasks": int, "pass_at_1": list, "pass_at_k": dict,
              "solved_chains": list, "solved_tasks": list, "by_difficulty": dict, "counts": dict, "timings": dict,
              "partial_results": str}
COUNT_KEYS = {"attempts", "attempts_per_iter", "statuses", "no_code_attempts", "truncated_chains", "skipped_tasks",
              "generated_tokens"}
TIMING_KEYS = {"this_run_s", "generate_s", "execute_s", "tasks_resumed", "tasks_evaluated", "prompt_tokens",
               "task_time_s"}


def test_report_json_table_and_plot(executor, humaneval_tasks, tmp_path):
    tasks = humaneval_tasks[:6]
    cfg = {"benchmark": "humaneval", "temperature": 0.0}
    oracle = evaluate(tasks, ScriptedGenerator(lambda r, k: fenced(r.task.reference_solution)), executor, iters=3,
                      label="oracle", config=cfg, partial_path=str(tmp_path / "partial" / "oracle.jsonl"),
                      progress=False)
    late = evaluate(tasks, ScriptedGenerator(wrong_then_right), executor, iters=3, label="feedback-fixer",
                    config=cfg, partial_path=str(tmp_path / "partial" / "late.jsonl"), progress=False)
    paths = write_report(str(tmp_path), [oracle, late], {"name": "humaneval", "tasks": 6})
    with open(paths["json"]) as f:
        data = json.load(f)
    assert data["schema_version"] == 1 and data["benchmark"]["name"] == "humaneval"
    assert isinstance(data["created"], str) and data["table_markdown"] == markdown_table([oracle, late])
    assert [m["label"] for m in data["models"]] == ["oracle", "feedback-fixer"]
    for m in data["models"]:
        for key, typ in MODEL_KEYS.items():
            assert isinstance(m[key], typ), key
        assert set(m["counts"]) == COUNT_KEYS and TIMING_KEYS <= set(m["timings"])
        assert len(m["pass_at_1"]) == m["iters"] == 3 and list(m["pass_at_k"]) == ["1"]
        assert set(m["by_difficulty"]) == {"unrated"}  # HumanEval has no difficulty labels
        assert set(m["config"]) >= {"benchmark", "temperature", "settings", "templates"}
    assert data["models"][0]["pass_at_1"] == [1.0, 1.0, 1.0]
    assert data["models"][1]["pass_at_1"] == [0.0, 1.0, 1.0]
    table = open(paths["table"]).read().splitlines()
    assert table[0] == "| model | Iter-1 | Iter-2 | Iter-3 | gain | tasks | n | T |"
    assert table[2] == "| oracle | 100.0 | 100.0 | 100.0 | +0.0 | 6 | 1 | 0 |"
    assert table[3] == "| feedback-fixer | 0.0 | 100.0 | 100.0 | +100.0 | 6 | 1 | 0 |"
    import matplotlib.image

    with open(paths["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(paths["plot"])
    assert img.shape[0] > 300 and img.shape[1] > 500 and float(np.std(img[..., :3])) > 0.05  # drawn, not blank


def test_progress_lines_inside_a_batch_name_each_iteration(executor, humaneval_tasks, capsys):
    # Off a terminal: one line per finished iteration of a batch, then the batch's own line.
    evaluate(humaneval_tasks[:3], Counting(wrong_then_right), executor, iters=2, n=1, batch_tasks=4, label="m")
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "[m] 0/3 tasks done; tasks 1-3: Iter-1 generated and run (3 attempts, 0 solved so far)"
    assert lines[1] == "[m] 0/3 tasks done; tasks 1-3: Iter-2 generated and run (3 attempts, 3 solved so far)"
    assert lines[2].startswith("[m] 3/3 tasks, eta 0.0 min iter1=0.000 iter2=1.000")
