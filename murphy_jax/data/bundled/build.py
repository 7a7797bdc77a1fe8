"""Build the bundled task set (``train.jsonl``, ``heldout.jsonl``) from the catalogue.

    python -m murphy_jax.data.bundled.build           # validate, then (re)write both files
    python -m murphy_jax.data.bundled.build --check   # validate; exit 1 if the files are stale

Every problem in ``catalog/`` is validated (unique ids, typed signature,
description, reference solution runs and is deterministic, every input and
output is plain JSON that round-trips exactly, every ``wrong`` variant is caught)
and turned into a ``CodeTask`` whose expected outputs come from running the
reference solution. The split is deterministic and stratified: inside each
theme, problems are ordered by difficulty and then by a hash of their id, and
every fifth one goes to ``heldout``. The output is byte-for-byte reproducible.
"""
from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import math
import random
import sys
from collections import Counter
from pathlib import Path

from murphy_jax.data.bundled.catalog import LEVELS, THEMES, Problem, all_problems
from murphy_jax.data.task import CodeTask, TestCase

SPLITS = ("train", "heldout")
HERE = Path(__file__).resolve().parent
N_PUBLIC = 2
MIN_TESTS, MAX_TESTS = 6, 10  # 2 public + 4..8 private
HELDOUT_EVERY, HELDOUT_OFFSET = 5, 2
MAX_EXAMPLE_CHARS = 110  # an example line in the prompt; long ones waste a small model's context
MAX_INT = 2**53  # beyond this some JSON readers lose precision
MAX_FLOAT_DENOMINATOR = 1024  # floats must be exact binary fractions so any correct formula matches


class CatalogError(ValueError):
    """A catalogue problem is malformed; the message starts with its id."""


def _seed(pid: str) -> int:
    return int(hashlib.sha256(pid.encode()).hexdigest()[:16], 16)


def check_json_value(x, where: str) -> None:
    """Raise CatalogError unless x is plain JSON data that survives a round trip unchanged."""
    if x is None or type(x) in (bool, str):
        return
    if type(x) is int:
        if abs(x) >= MAX_INT:
            raise CatalogError(f"{where}: integer {x} is too large for JSON readers")
        return
    if type(x) is float:
        if not math.isfinite(x) or x.as_integer_ratio()[1] > MAX_FLOAT_DENOMINATOR:
            raise CatalogError(f"{where}: float {x!r} is not an exact small binary fraction")
        return
    if type(x) is list:
        for i, v in enumerate(x):
            check_json_value(v, f"{where}[{i}]")
        return
    if type(x) is dict:
        for k, v in x.items():
            if type(k) is not str:
                raise CatalogError(f"{where}: dict key {k!r} is not a string")
            check_json_value(v, f"{where}[{k!r}]")
        return
    raise CatalogError(f"{where}: {type(x).__name__} is not a JSON value (use lists, not tuples or sets)")


def same_value(a, b) -> bool:
    """Equality that also tells bool from int and int from float, as a JSON comparison would."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


def _exec(src: str, pid: str) -> dict:
    ns: dict = {"__name__": f"bundled_{pid}"}
    exec(compile(src, f"<{pid}>", "exec"), ns)
    return ns


def signature(p: Problem) -> tuple[str, int]:
    """The prompt's signature text (``f(a: int) -> int``) and the arity, read from the reference."""
    try:
        tree = ast.parse(p.ref)
    except SyntaxError as e:
        raise CatalogError(f"{p.id}: reference does not parse: {e}") from None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == p.id]
    if len(defs) != 1:
        raise CatalogError(f"{p.id}: reference must define exactly one top-level function {p.id!r}")
    fn = defs[0]
    a = fn.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults:
        raise CatalogError(f"{p.id}: use plain positional parameters without defaults")
    if any(arg.annotation is None for arg in a.args) or fn.returns is None:
        raise CatalogError(f"{p.id}: every parameter and the return need a type annotation")
    return f"{p.id}({ast.unparse(a)}) -> {ast.unparse(fn.returns)}", len(a.args)


def _as_args(p: Problem, entry, arity: int, where: str) -> list:
    if arity == 1:
        if type(entry) is tuple:
            raise CatalogError(f"{where}: one-parameter inputs are written bare, not as tuples")
        args = [entry]
    else:
        if type(entry) is not tuple or len(entry) != arity:
            raise CatalogError(f"{where}: expected a tuple of {arity} arguments, got {entry!r}")
        args = list(entry)
    check_json_value(args, where)
    return args


def test_inputs(p: Problem, arity: int) -> list[list]:
    """Hand-picked inputs followed by generated ones, duplicates dropped, as argument lists."""
    seen, out = set(), []
    entries = [(e, f"{p.id}.tests[{i}]") for i, e in enumerate(p.tests)]
    if p.gen is not None:
        rng = random.Random(_seed(p.id))
        entries += [(p.gen(rng), f"{p.id}.gen#{i}") for i in range(p.n_gen)]
    for entry, where in entries:
        args = _as_args(p, entry, arity, where)
        key = json.dumps(args, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(args)
    if not MIN_TESTS <= len(out) <= MAX_TESTS:
        raise CatalogError(f"{p.id}: has {len(out)} distinct inputs; need {MIN_TESTS}..{MAX_TESTS}")
    return out


def render_call(name: str, args: list) -> str:
    """``name(arg, ...)`` with Python literals, as shown in prompts."""
    return f"{name}({', '.join(repr(a) for a in args)})"


def render_prompt(sig: str, desc: str, examples: list[str]) -> str:
    """The problem statement: signature, description and worked examples."""
    head = "Example:" if len(examples) == 1 else "Examples:"
    return f"Write a Python function `{sig}` that {desc}\n\n{head}\n" + "\n".join(examples)


def make_test(name: str, args: list, expected) -> TestCase:
    """A ``call`` test, or an equivalent ``assert`` test when the call form would not survive JSON.

    ``TestCase.to_dict`` drops empty-string fields, so a call test expecting
    ``""`` would read back as expecting ``None``; such a test is written as an
    assert instead (the check then runs inside the candidate's process).
    """
    t = TestCase(kind="call", args=args, expected=expected)
    if TestCase.from_dict(json.loads(json.dumps(t.to_dict()))) == t:
        return t
    return TestCase(kind="assert", code=f"assert candidate({', '.join(map(repr, args))}) == {expected!r}")


def _run(fn, args):
    try:
        return True, fn(*copy.deepcopy(args))
    except Exception as e:  # a wrong variant may crash; that counts as a failed test
        return False, e


def _check_wrong(p: Problem, inputs: list[list], expected: list) -> None:
    for k, src in enumerate(p.wrong):
        fn = _exec(src, f"{p.id}_wrong{k}").get(p.id)
        if fn is None:
            raise CatalogError(f"{p.id}: wrong[{k}] does not define {p.id!r}")
        passed = 0
        for args, exp in zip(inputs, expected):
            ok, out = _run(fn, args)
            passed += ok and same_value(out, exp)
        if passed == len(inputs):
            raise CatalogError(f"{p.id}: wrong[{k}] passes every test; add an input that catches it")
        if p.trap and passed == 0:
            raise CatalogError(f"{p.id}: wrong[{k}] for a trap problem should pass the ordinary tests")


def build_task(theme: str, p: Problem) -> CodeTask:
    """Validate one problem and turn it into a CodeTask (split not yet decided)."""
    if p.level not in LEVELS:
        raise CatalogError(f"{p.id}: level {p.level!r} not in {LEVELS}")
    if not p.id.isidentifier() or p.id != p.id.lower():
        raise CatalogError(f"{p.id}: id must be a snake_case identifier")
    desc = " ".join(p.desc.split())
    if not desc or not desc[0].islower() or desc[-1] not in ".)":
        raise CatalogError(f"{p.id}: desc must continue 'that ...' (lower-case start) and end with '.'")
    sig, arity = signature(p)
    inputs = test_inputs(p, arity)
    fn = _exec(p.ref, p.id)[p.id]
    expected = []
    for args in inputs:
        where = f"{p.id}: {render_call(p.id, args)}"
        ok, out = _run(fn, args)
        if not ok:
            raise CatalogError(f"{where} raised {type(out).__name__}: {out}")
        check_json_value(out, where)
        ok2, again = _run(fn, args)
        if not (ok2 and same_value(out, again)):
            raise CatalogError(f"{where} is not deterministic")
        expected.append(out)
    _check_wrong(p, inputs, expected)
    examples = [f"{render_call(p.id, a)} == {e!r}" for a, e in zip(inputs[:N_PUBLIC], expected[:N_PUBLIC])]
    for ex in examples:
        if len(ex) > MAX_EXAMPLE_CHARS:
            raise CatalogError(f"{p.id}: example {ex!r} is longer than {MAX_EXAMPLE_CHARS} characters")
    tests = [make_test(p.id, a, e) for a, e in zip(inputs, expected)]
    metadata = {"theme": theme}
    if p.trap:
        metadata["trap"] = p.trap
    task = CodeTask(
        task_id=f"bundled/{p.id}",
        prompt=render_prompt(sig, desc, examples),
        public_tests=tests[:N_PUBLIC],
        private_tests=tests[N_PUBLIC:],
        entry_point=p.id,
        difficulty=p.level,
        source="bundled",
        reference_solution=p.ref,
        metadata=metadata,
    )
    task.validate()
    if CodeTask.from_json(task.to_json()) != task:
        raise CatalogError(f"{p.id}: task does not round-trip through JSON")
    return task


def assign_splits(tasks: list[CodeTask]) -> dict[str, str]:
    """task_id -> split; inside each theme, every fifth task in (difficulty, id-hash) order is held out."""
    out = {}
    for theme in THEMES:
        group = [t for t in tasks if t.metadata["theme"] == theme]
        group.sort(key=lambda t: (LEVELS.index(t.difficulty), hashlib.sha256(t.task_id.encode()).hexdigest()))
        for i, t in enumerate(group):
            out[t.task_id] = "heldout" if i % HELDOUT_EVERY == HELDOUT_OFFSET else "train"
    return out


def build() -> dict[str, list[CodeTask]]:
    """Validate the whole catalogue and return {split: tasks in catalogue order}."""
    problems = all_problems()
    dup = [pid for pid, n in Counter(p.id for _, p in problems).items() if n > 1]
    if dup:
        raise CatalogError(f"duplicate ids: {sorted(dup)}")
    tasks = [build_task(theme, p) for theme, p in problems]
    split = assign_splits(tasks)
    return {s: [t for t in tasks if split[t.task_id] == s] for s in SPLITS}


def render_files(splits: dict[str, list[CodeTask]]) -> dict[str, str]:
    """{file name: exact file text} for the split files."""
    return {f"{s}.jsonl": "".join(t.to_json() + "\n" for t in splits[s]) for s in SPLITS}


def counts(splits: dict[str, list[CodeTask]]) -> Counter:
    """Task counts keyed by (theme, difficulty, split)."""
    return Counter((t.metadata["theme"], t.difficulty, s) for s, tasks in splits.items() for t in tasks)


def summary_table(splits: dict[str, list[CodeTask]]) -> str:
    """A Markdown table of theme x difficulty counts, each cell "total (train / heldout)"."""
    c = counts(splits)

    def cell(themes, levels) -> str:
        tr = sum(c[th, lv, "train"] for th in themes for lv in levels)
        he = sum(c[th, lv, "heldout"] for th in themes for lv in levels)
        return f"{tr + he} ({tr} / {he})"

    rows = ["| theme | easy | medium | hard | total (train / heldout) |", "|---|---|---|---|---|"]
    for name, themes in [(th, [th]) for th in THEMES] + [("**all**", list(THEMES))]:
        cells = [cell(themes, [lv]) for lv in LEVELS] + [cell(themes, LEVELS)]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the committed files differ")
    ap.add_argument("--out-dir", type=Path, default=HERE, help="where to write the split files")
    args = ap.parse_args(argv)
    try:
        splits = build()
    except CatalogError as e:
        print(f"catalogue error: {e}", file=sys.stderr)
        return 2
    files = render_files(splits)
    print(summary_table(splits))
    if args.check:
        stale = [n for n, text in files.items()
                 if not (args.out_dir / n).exists() or (args.out_dir / n).read_text(encoding="utf-8") != text]
        if stale:
            print(f"stale: {stale}; run python -m murphy_jax.data.bundled.build", file=sys.stderr)
            return 1
        print("bundled task files are up to date")
        return 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        # newline="\n" keeps the bytes identical on every platform.
        with open(args.out_dir / name, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print(f"wrote {', '.join(str(args.out_dir / n) for n in files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
