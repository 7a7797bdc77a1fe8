"""Multi-turn Iter-k evaluation (pass@1 at Iter-1..Iter-k with execution feedback), reports and plots.

    from murphy_jax.eval import evaluate, write_report
    report = evaluate(tasks, generator, executor, iters=5, n=1, partial_path="out/partial/m.jsonl")
    write_report("out", [report], {"name": "humaneval"})

See docs/evaluation.md.
"""
from murphy_jax.eval.metrics import is_solved, pass_at_k, scoring_tests, summarize, summarize_by_difficulty
from murphy_jax.eval.report import markdown_table, plot_pass_at_1, report_dict, write_report
from murphy_jax.eval.runner import EvalReport, EvalSettings, evaluate

__all__ = ["EvalReport", "EvalSettings", "evaluate", "is_solved", "markdown_table", "pass_at_k", "plot_pass_at_1",
           "report_dict", "scoring_tests", "summarize", "summarize_by_difficulty", "write_report"]
