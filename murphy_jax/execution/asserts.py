"""Compile trusted test code so failing ``assert a == b`` statements report expected and actual values.

Only single comparisons are rewritten (``assert L op R[, msg]``); each operand is evaluated
exactly once and the comparison is the same operator, so the verdict is unchanged. Which
side is "actual" is guessed: the side that calls something (the candidate) when only one does.
"""
from __future__ import annotations

import ast
import operator

from .proxy import snapshot_repr

_OPS = {ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne), ast.Lt: ("<", operator.lt),
        ast.LtE: ("<=", operator.le), ast.Gt: (">", operator.gt), ast.GtE: (">=", operator.ge),
        ast.Is: ("is", operator.is_), ast.IsNot: ("is not", operator.is_not),
        ast.In: ("in", lambda a, b: a in b), ast.NotIn: ("not in", lambda a, b: a not in b)}
_BY_SYMBOL = {sym: fn for sym, fn in _OPS.values()}
HELPER = "__murphy_compare__"


class ComparisonFailed(AssertionError):
    """A rewritten assert failed; carries the two operands' reprs."""

    def __init__(self, op: str, actual: str, expected: str, message):
        text = f"expected {expected}, got {actual}" if op == "==" else f"{actual} {op} {expected} is false"
        if message is not None:
            text = f"{message} ({text})"
        super().__init__(text)
        self.op = op
        self.actual = actual
        self.expected = expected


def compare(left, right, op: str, message, swap: bool):
    """Runtime half of a rewritten assert."""
    if not _BY_SYMBOL[op](left, right):
        actual, expected = (right, left) if swap else (left, right)
        raise ComparisonFailed(op, snapshot_repr(actual, 1000), snapshot_repr(expected, 1000),
                               message() if message is not None else None)


def _has_call(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


def _rewrite(node: ast.Assert) -> ast.stmt:
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _OPS):
        return node
    left, right = test.left, test.comparators[0]
    swap = not _has_call(left) and _has_call(right)
    msg = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
                     body=node.msg) if node.msg is not None else ast.Constant(None)
    func = ast.Name(HELPER, ast.Load())
    call = ast.Call(func=func, args=[left, right, ast.Constant(_OPS[type(test.ops[0])][0]), msg,
                                     ast.Constant(swap)], keywords=[])
    stmt = ast.Expr(call)
    for new in (stmt, call, func, *call.args[2:], *([msg.args] if isinstance(msg, ast.Lambda) else [])):
        ast.copy_location(new, node)  # only the new nodes need positions
    return stmt


def _rewrite_body(stmts: list) -> None:
    # Asserts are statements, so only statement lists need visiting (much cheaper than a NodeTransformer).
    for i, st in enumerate(stmts):
        if isinstance(st, ast.Assert):
            stmts[i] = _rewrite(st)
            continue
        for name in ("body", "orelse", "finalbody"):
            sub = getattr(st, name, None)
            if isinstance(sub, list):
                _rewrite_body(sub)
        for part in getattr(st, "handlers", ()) or getattr(st, "cases", ()):
            _rewrite_body(part.body)


def compile_test(source, filename: str = "<test>"):
    """Compile trusted test code (source text or a parsed ast.Module) with asserts rewritten."""
    if isinstance(source, str):
        if "assert" not in source:
            return compile(source, filename, "exec", dont_inherit=True)
        source = ast.parse(source, filename)
    _rewrite_body(source.body)
    return compile(source, filename, "exec", dont_inherit=True)
