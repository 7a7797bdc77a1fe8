"""Python-source surgery shared by the function-style loaders (HumanEval, HumanEval+, MBPP+).

* ``split_check``: turn a HumanEval-style test module (``def check(candidate): ...``)
  into trusted setup code plus one ``assert``-kind test per top-level assert of
  ``check``. Non-assert statements (imports, helper assignments) are replayed
  before every later test, so each test runs on its own; a compound statement
  (``for``/``if``/``with``) that contains asserts is one test.
* ``prompt_helpers``: the prompt's top-level code other than the entry point
  (imports, helper functions such as HumanEval/32's ``poly``).
"""
from __future__ import annotations

import ast
import warnings

from murphy_jax.data.sources._common import RowError


def parse(src: str, mode: str = "exec") -> ast.AST:
    """``ast.parse`` without the SyntaxWarnings old code triggers (``"\\d"`` escapes in MBPP)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(src, mode=mode)


def stmt_source(src: str, lines: list[str], node: ast.stmt) -> str:
    """Source text of one statement, dedented to column 0 (falls back to ast.unparse)."""
    first, last = node.lineno - 1, node.end_lineno - 1
    col = node.col_offset
    chunk = lines[first:last + 1]
    prefix = chunk[0][:col] if chunk else ""
    tail = chunk[-1][node.end_col_offset:] if chunk else ""
    # Exact text keeps comments and formatting; needs the statement to own its lines.
    if chunk and not prefix.strip() and (not tail.strip() or tail.strip().startswith("#")):
        out = []
        for ln in chunk:
            if ln.strip() and not ln.startswith(prefix):
                break  # a less-indented line inside a multi-line string: dedenting would corrupt it
            out.append(ln[len(prefix):] if ln.startswith(prefix) else ln.lstrip())
        else:
            return "\n".join(out).rstrip()
    return ast.unparse(node)


def _calls_assert_helper(node: ast.AST) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if "assert" in name.lower():
                return True
    return False


def _is_trivial_assert(node: ast.stmt) -> bool:
    # HumanEval checks contain `assert True, "This prints if ..."` lines: they test nothing.
    return isinstance(node, ast.Assert) and isinstance(node.test, ast.Constant) and bool(node.test.value)


def is_test_statement(node: ast.stmt) -> bool:
    """A statement that checks something: contains ``assert`` or calls an assert-like helper."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    if any(isinstance(n, ast.Assert) for n in ast.walk(node)):
        return True
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return False
    return _calls_assert_helper(node)


def _literal_list(node: ast.AST) -> list[ast.expr] | None:
    return list(node.elts) if isinstance(node, (ast.List, ast.Tuple)) else None


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


def chunk_bounds(n: int, k: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` bounds cutting ``n`` items into ``min(k, n)`` contiguous, near-equal chunks."""
    k = max(1, min(k, n))
    base, rem = divmod(n, k)
    out, start = [], 0
    for i in range(k):
        size = base + (1 if i < rem else 0)
        out.append((start, start + size))
        start += size
    return out


def _chunked_io_tests(src: str, prelude: list[tuple[ast.stmt, str]], test: ast.stmt, test_src: str,
                      chunks: int) -> list[str] | None:
    """EvalPlus style ``inputs = [...]; results = [...]; for ... zip(inputs, results)``: one test per chunk."""
    if chunks <= 1 or not isinstance(test, ast.For):
        return None
    iter_names = {n.id for n in ast.walk(test.iter) if isinstance(n, ast.Name)}
    if not {"inputs", "results"} <= iter_names:
        return None
    latest: dict[str, int] = {}
    for i, (node, _) in enumerate(prelude):
        name = _assigned_name(node)
        if name in ("inputs", "results"):
            latest[name] = i
    if len(latest) != 2:
        return None
    ins = _literal_list(prelude[latest["inputs"]][0].value)
    outs = _literal_list(prelude[latest["results"]][0].value)
    if ins is None or outs is None or len(ins) != len(outs) or len(ins) < 2:
        return None
    seg = lambda e: ast.get_source_segment(src, e) or ast.unparse(e)  # noqa: E731
    tests = []
    for lo, hi in chunk_bounds(len(ins), chunks):
        body = []
        for i, (_, text) in enumerate(prelude):
            if i == latest["inputs"]:
                text = "inputs = [" + ", ".join(seg(e) for e in ins[lo:hi]) + "]"
            elif i == latest["results"]:
                text = "results = [" + ", ".join(seg(e) for e in outs[lo:hi]) + "]"
            body.append(text)
        tests.append("\n".join(body + [test_src]))
    return tests


def split_check(test_src: str, check_name: str = "check", chunks: int = 1) -> tuple[str, list[str], int]:
    """Split a test module into ``(setup, tests, n_trivial_dropped)``.

    ``setup`` is the module's top-level code except ``check`` itself, ``METADATA``
    and calls of ``check``. Each test is the prelude of non-test statements seen
    so far plus one test statement; tests refer to ``candidate`` (bound by the
    executor). ``chunks`` > 1 splits an EvalPlus inputs/results loop into that
    many tests.
    """
    try:
        mod = parse(test_src)
    except SyntaxError as e:
        raise RowError("test code does not parse", f"line {e.lineno}: {e.msg}") from None
    lines = test_src.splitlines()
    setup_parts: list[str] = []
    module_io: list[tuple[ast.stmt, str]] = []
    check: ast.FunctionDef | None = None
    for node in mod.body:
        if isinstance(node, ast.FunctionDef) and node.name == check_name:
            check = node
            continue
        if _assigned_name(node) == "METADATA":
            continue
        if _assigned_name(node) in ("inputs", "results"):
            # Module-level test data: replayed per test (and chunked) rather than run once in setup.
            module_io.append((node, stmt_source(test_src, lines, node)))
            continue
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if isinstance(node, (ast.Expr, ast.Assert)) and check_name in names:
            continue  # `check(f)` / `assert check(f) is None`: the executor runs the tests itself
        setup_parts.append(stmt_source(test_src, lines, node))
    if check is None:
        raise RowError("no check function in test code")
    param = check.args.args[0].arg if check.args.args else "candidate"
    prelude: list[tuple[ast.stmt, str]] = list(module_io)
    if param != "candidate":
        bind = f"{param} = candidate"
        prelude.append((parse(bind).body[0], bind))
    tests: list[str] = []
    trivial = 0
    body = check.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    for node in body:
        text = stmt_source(test_src, lines, node)
        if not is_test_statement(node):
            prelude.append((node, text))
            continue
        if _is_trivial_assert(node):
            trivial += 1
            continue
        chunked = _chunked_io_tests(test_src, prelude, node, text, chunks)
        if chunked:
            tests.extend(chunked)
        else:
            tests.append("\n".join([t for _, t in prelude] + [text]))
    if not tests:
        raise RowError("check has no asserts")
    return "\n".join(setup_parts).strip(), tests, trivial


# ----------------------------------------------------------------------------- prompts


def find_function(mod: ast.Module, name: str) -> ast.FunctionDef | None:
    """The top-level function (or async function) called ``name``."""
    for node in mod.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


def prompt_helpers(prompt: str, entry_point: str) -> str:
    """Top-level code of the prompt other than the entry-point function (imports, helpers)."""
    try:
        mod = parse(prompt)
    except SyntaxError:
        return ""
    lines = prompt.splitlines()
    keep = [stmt_source(prompt, lines, n) for n in mod.body
            if not (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == entry_point)]
    return "\n\n".join(keep).strip()


def import_lines(code: str) -> list[str]:
    """Top-level import statements of ``code`` (empty when it does not parse)."""
    try:
        mod = parse(code)
    except SyntaxError:
        return []
    return [ast.unparse(n) for n in mod.body if isinstance(n, (ast.Import, ast.ImportFrom))]


def defined_names(code: str) -> set[str]:
    """Names a module binds at top level (defs, classes, imports, assignments)."""
    try:
        mod = parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in mod.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return names
