"""A task's trusted test code, compiled once per worker, plus the calls that can be sent ahead.

A test is *pipelinable* when its only interaction with the candidate is one call whose
arguments are literals and whose result is compared (==, !=, <, ... , is) with a literal:
``assert candidate([1, 2]) == 3`` or a ``call`` test. The judge then knows that call before
the test runs, so a run of such tests is queued to the candidate in one go and the candidate
answers them back to back, in the same order and with the same arguments as one-by-one
calls; each verdict is still computed by the judge when its test runs.
"""
from __future__ import annotations

import ast
import types
from dataclasses import dataclass, field

from .asserts import compile_test
from .sandbox import codec

_PIPELINE_OPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot)


@dataclass
class Compiled:
    """Code objects and call plans for one task (judges share them; never mutated after creation)."""

    setup: object = None  # code object of task.test_setup (asserts rewritten)
    tests: dict = field(default_factory=dict)  # test index -> code object (assert tests)
    calls: dict = field(default_factory=dict)  # test index -> (callee name, encoded arguments): pipelinable
    names: frozenset = frozenset()  # every global name the test code may look up in the candidate
    error: str = ""  # the task's own test code does not compile


def _literal(node: ast.AST):
    return ast.literal_eval(node)  # raises ValueError/TypeError/SyntaxError for anything else


def literal_call(tree: ast.Module):
    """(callee name, args, kwargs) if the test is one assert comparing one literal-argument call with a literal."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    stmt = tree.body[0]
    test = stmt.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], _PIPELINE_OPS)):
        return None
    sides = (test.left, test.comparators[0])
    calls = [s for s in sides if isinstance(s, ast.Call)]
    if len(calls) != 1 or not isinstance(calls[0].func, ast.Name):
        return None
    call, other = calls[0], sides[1] if calls[0] is sides[0] else sides[0]
    try:
        for node in [other] + ([stmt.msg] if stmt.msg is not None else []):
            _literal(node)
        args = [_literal(a) for a in call.args]
        kwargs = {k.arg: _literal(k.value) for k in call.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if None in kwargs:  # **mapping
        return None
    return call.func.id, args, kwargs


def encode_args(args, kwargs) -> object:
    """The wire form of a call's arguments, exactly as the session encodes them."""
    return codec.Encoder().encode((tuple(args), tuple(kwargs.items())))


def _encode_or_none(args, kwargs):
    try:
        return encode_args(args, kwargs)
    except codec.EncodeError:
        return None


def compile_task(task) -> Compiled:
    """Compile a task's trusted test code, plan its pipelinable calls, list the names it may look up."""
    calls, tests = {}, {}
    plain_entry = task.entry_point and "." not in task.entry_point
    try:
        setup = compile_test(task.test_setup, "<test_setup>") if task.test_setup.strip() else None
        module = compile(task.test_module, "<test_module>", "exec", dont_inherit=True) \
            if task.test_module.strip() else None
        for i, t in enumerate(task.all_tests):
            if t.kind == "assert":
                tree = ast.parse(t.code, f"<test {i}>")
                found = literal_call(tree)  # before compile_test rewrites the tree
                tests[i] = compile_test(tree, f"<test {i}>")
                if found is not None:
                    calls[i] = (found[0], _encode_or_none(found[1], found[2]))
            elif t.kind == "call" and plain_entry:
                calls[i] = (task.entry_point, _encode_or_none(t.args, {}))
    except (SyntaxError, ValueError) as e:
        return Compiled(error=f"the task's test code does not compile: {e}")
    calls = {i: c for i, c in calls.items() if c[1] is not None}
    names: set[str] = set()
    stack = [c for c in [setup, module, *tests.values()] if c is not None]
    while stack:
        code = stack.pop()
        names.update(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return Compiled(setup=setup, tests=tests, calls=calls, names=frozenset(names))
