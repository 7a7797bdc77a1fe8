"""The bundled task set: committed files match the catalogue, references pass, wrong answers fail, splits are sound."""
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import murphy_jax
from murphy_jax.data.bundled import build, load_bundled
from murphy_jax.data.bundled.catalog import LEVELS, THEMES, P, all_problems
from murphy_jax.data.task import CodeTask, TestCase

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "bundled_harness.py"
REPO = Path(murphy_jax.__file__).resolve().parent.parent
DATA = REPO / "murphy_jax" / "data" / "bundled"
FILES = [DATA / "train.jsonl", DATA / "heldout.jsonl"]


@pytest.fixture(scope="module")
def fresh():
    """A fresh in-process build of the catalogue."""
    return build.build()


@pytest.fixture(scope="module")
def tasks():
    return load_bundled("all")


def _harness(*extra, sources=None, tmp_path=None):
    cmd = [sys.executable, "-I", str(HARNESS), *map(str, FILES)]
    if sources is not None:
        src_file = tmp_path / "sources.json"
        src_file.write_text(json.dumps(sources), encoding="utf-8")
        cmd += ["--sources", str(src_file)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


# --- the committed files cannot drift from the catalogue ---------------------------------------

def test_committed_files_equal_a_fresh_build(fresh):
    for name, text in build.render_files(fresh).items():
        committed = (DATA / name).read_bytes()
        assert committed == text.encode("utf-8"), (
            f"{name} is stale; run `python -m murphy_jax.data.bundled.build` and commit the result")


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_build_is_reproducible_under_any_hash_seed(hash_seed):
    # String hashing is randomised per process; a reference that iterated a set
    # of strings would make the files differ between runs.
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-m", "murphy_jax.data.bundled.build", "--check"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


# --- every reference passes, wrong answers fail ---------------------------------------------------

def test_every_reference_passes_every_test_in_a_plain_subprocess(tasks):
    results = _harness()
    assert set(results) == {t.task_id for t in tasks}
    failing = {tid: flags for tid, flags in results.items() if not all(flags)}
    assert not failing, f"reference solutions fail their own tests: {failing}"
    for t in tasks:
        assert len(results[t.task_id]) == len(t.all_tests)


def test_catalogued_wrong_variants_fail_and_every_theme_has_one(tmp_path):
    pairs, themes = [], Counter()
    for theme, p in all_problems():
        for src in p.wrong:
            pairs.append([f"bundled/{p.id}", src])
            themes[theme] += 1
    assert set(themes) == set(THEMES), f"themes without a wrong variant: {set(THEMES) - set(themes)}"
    results = _harness(sources=pairs, tmp_path=tmp_path)
    for (tid, _), flags in zip(pairs, results):
        assert not all(flags), f"a deliberately wrong {tid} passes all tests"


def test_trap_variants_earn_partial_credit(tmp_path):
    # A trap problem's natural wrong attempt should pass the ordinary cases and
    # fail the edge case: exactly where feedback can help a second attempt.
    pairs = [[f"bundled/{p.id}", src] for _, p in all_problems() if p.trap for src in p.wrong]
    assert len(pairs) >= 30
    for (tid, _), flags in zip(pairs, _harness(sources=pairs, tmp_path=tmp_path)):
        assert any(flags) and not all(flags), tid


def test_trivial_candidates_fail_every_task(tasks, tmp_path):
    # Returning None, or always the first example's answer, must never pass a task.
    pairs = []
    for t in tasks:
        pairs.append([t.task_id, f"def {t.entry_point}(*args):\n    return None\n"])
        first = t.public_tests[0]
        if first.kind == "call":
            pairs.append([t.task_id, f"def {t.entry_point}(*args):\n    return {first.expected!r}\n"])
    for (tid, _), flags in zip(pairs, _harness(sources=pairs, tmp_path=tmp_path)):
        assert not all(flags), f"{tid} is passed by a constant function"


# --- splits and counts ----------------------------------------------------------------------------

def test_splits_are_disjoint_and_cover_the_catalogue():
    train, heldout = load_bundled("train"), load_bundled("heldout")
    ids_train, ids_held = {t.task_id for t in train}, {t.task_id for t in heldout}
    assert not ids_train & ids_held
    assert len(ids_train) == len(train) and len(ids_held) == len(heldout)
    assert ids_train | ids_held == {f"bundled/{p.id}" for _, p in all_problems()}
    assert [t.task_id for t in load_bundled("all")] == [t.task_id for t in train + heldout]


def test_splits_are_stratified_by_theme_and_difficulty():
    train, heldout = load_bundled("train"), load_bundled("heldout")
    n = len(train) + len(heldout)
    assert 0.18 <= len(heldout) / n <= 0.22
    for key in ("theme", "difficulty"):
        get = (lambda t: t.metadata["theme"]) if key == "theme" else (lambda t: t.difficulty)
        tr, he = Counter(map(get, train)), Counter(map(get, heldout))
        assert set(tr) == set(he), f"some {key} is missing from a split"
        for k in tr:
            assert 0.12 <= he[k] / (tr[k] + he[k]) <= 0.28, (key, k, tr[k], he[k])


def test_counts_per_difficulty_and_theme(tasks):
    assert len(tasks) >= 300
    by_level = Counter(t.difficulty for t in tasks)
    assert set(by_level) == set(LEVELS)
    # A 135M model must be able to solve some problems at all: many very easy ones.
    assert by_level["easy"] >= 0.3 * len(tasks)
    assert by_level["hard"] >= 0.1 * len(tasks)
    by_theme = Counter(t.metadata["theme"] for t in tasks)
    assert set(by_theme) == set(THEMES)
    assert min(by_theme.values()) >= 25
    assert sum("trap" in t.metadata for t in tasks) >= 40


# --- the task format ------------------------------------------------------------------------------

def test_tasks_follow_the_format(tasks):
    for t in tasks:
        t.validate()
        assert t.source == "bundled" and t.task_id == f"bundled/{t.entry_point}"
        assert len(t.public_tests) == 2 and 4 <= len(t.private_tests) <= 8
        assert t.reference_solution.startswith(f"def {t.entry_point}(") or "\ndef " in t.reference_solution
        assert t.metadata["theme"] in THEMES
        assert t.prompt.startswith(f"Write a Python function `{t.entry_point}(")
        assert "\n\nExamples:\n" in t.prompt
        args = [json.dumps(x.args, sort_keys=True) for x in t.all_tests if x.kind == "call"]
        assert len(args) == len(set(args)), f"{t.task_id} repeats a test input"
        # Tests whose expected outputs are all the same cannot tell answers apart.
        outs = {json.dumps(x.expected) if x.kind == "call" else x.code.rsplit("==", 1)[1] for x in t.all_tests}
        assert len(outs) >= 2, t.task_id


def test_prompt_examples_are_the_public_tests(tasks):
    t = next(t for t in tasks if t.task_id == "bundled/count_vowels")
    assert t.prompt.endswith("Examples:\ncount_vowels('hello') == 2\ncount_vowels('sky') == 0")
    assert [(x.args, x.expected) for x in t.public_tests] == [(["hello"], 2), (["sky"], 0)]
    assert t.prompt.startswith("Write a Python function `count_vowels(s: str) -> int` that returns ")


def test_load_bundled_rejects_unknown_split():
    with pytest.raises(ValueError, match="unknown bundled split 'test'.*train.*heldout.*all"):
        load_bundled("test")


def test_load_bundled_returns_independent_objects():
    a, b = load_bundled("heldout"), load_bundled("heldout")
    a[0].metadata["theme"] = "changed"
    assert b[0].metadata["theme"] != "changed"


def test_empty_string_outputs_survive_json():
    # TestCase.to_dict drops "" fields, so the builder writes such tests as asserts.
    t = build.make_test("f", ["x"], "")
    assert TestCase.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    assert build.make_test("f", ["x"], "y") == TestCase(kind="call", args=["x"], expected="y")


# --- the builder's validation catches bad catalogue entries ---------------------------------------

def _ok_ref(body="return n + 1", ret="int"):
    return f"def f(n: int) -> {ret}:\n    {body}\n"


@pytest.mark.parametrize("problem, message", [
    (P("f", "easy", "returns n + 1.", _ok_ref(), [1, 2, 3]), "distinct inputs"),
    (P("f", "easy", "returns n + 1.", _ok_ref("return (n, n)", "tuple"), [1, 2, 3, 4, 5, 6]), "not a JSON value"),
    (P("f", "easy", "returns n + 1.", _ok_ref("return {n: 1}", "dict"), [1, 2, 3, 4, 5, 6]), "not a string"),
    (P("f", "easy", "returns n / 3.", _ok_ref("return n / 3", "float"), [1, 2, 3, 4, 5, 6]), "binary fraction"),
    (P("f", "easy", "returns n + 1.", "def f(n):\n    return n + 1\n", [1, 2, 3, 4, 5, 6]), "annotation"),
    (P("f", "easy", "returns n + 1.", _ok_ref("return 1 // (n - 3)"), [1, 2, 3, 4, 5, 6]), "raised"),
    (P("f", "easy", "Returns n + 1.", _ok_ref(), [1, 2, 3, 4, 5, 6]), "lower-case"),
    (P("f", "trivial", "returns n + 1.", _ok_ref(), [1, 2, 3, 4, 5, 6]), "level"),
    (P("f", "easy", "returns n + 1.", _ok_ref(), [(1,), 2, 3, 4, 5, 6]), "bare"),
    (P("f", "easy", "returns n + 1.", _ok_ref(), [1, 2, 3, 4, 5, 6],
       wrong="def f(n):\n    return 1 + n\n"), "passes every test"),
    (P("f", "easy", "returns n + 1.", _ok_ref(), [1, 2, 3, 4, 5, 6], trap="x",
       wrong="def f(n):\n    return 0\n"), "ordinary tests"),
    (P("f", "easy", "returns n + 1.", _ok_ref(), [10**20, 2, 3, 4, 5, 6]), "too large"),
])
def test_builder_rejects_bad_problems(problem, message):
    with pytest.raises(build.CatalogError, match=message):
        build.build_task("arithmetic", problem)


def test_builder_accepts_a_good_problem_and_computes_expected_values():
    p = P("f", "easy", "returns n + 1.", _ok_ref(), [1, 2, 3, 4], gen=lambda r: r.randint(100, 200))
    t = build.build_task("arithmetic", p)
    assert isinstance(t, CodeTask) and t.difficulty == "easy"
    assert [x.expected for x in t.all_tests][:4] == [2, 3, 4, 5]
    assert t.prompt == ("Write a Python function `f(n: int) -> int` that returns n + 1.\n\n"
                        "Examples:\nf(1) == 2\nf(2) == 3")
    assert build.build_task("arithmetic", p) == t  # generated inputs are seeded by the id


def test_check_mode_reports_stale_files(tmp_path):
    assert build.main(["--out-dir", str(tmp_path)]) == 0
    assert build.main(["--check", "--out-dir", str(tmp_path)]) == 0
    (tmp_path / "heldout.jsonl").write_text("", encoding="utf-8")
    assert build.main(["--check", "--out-dir", str(tmp_path)]) == 1


def test_docs_counts_table_matches_the_build(fresh):
    doc = (REPO / "docs" / "bundled_tasks.md").read_text(encoding="utf-8")
    start = doc.index("<!-- counts-table")
    table = doc[doc.index("\n", start) + 1: doc.index("<!-- /counts-table -->")].strip()
    assert table == build.summary_table(fresh), "update the counts table in docs/bundled_tasks.md"
