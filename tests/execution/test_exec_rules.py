"""Verdict rules (stdio and call comparisons), results, rewards and configuration validation."""
import pytest

from murphy_jax.data.task import CodeTask, TestCase
from murphy_jax.execution import ExecResult, ExecutorConfig, TestOutcome
from murphy_jax.execution.compare import stdio_equal, value_equal
from murphy_jax.execution.config import usable_cores
from murphy_jax.execution.result import overall_status

TOL = dict(rel_tol=1e-6, abs_tol=1e-6)


@pytest.mark.parametrize("actual, expected", [
    ("1 2\n", "1 2"), ("1  2   \n\n\n", "1 2\n"), ("a\r\nb\r\n", "a\nb\n"), ("0.3333333333\n", "0.333333"),
    ("1e3\n", "1000"), ("  x\n", "x"), ("", "\n"),
])
def test_stdio_outputs_that_match(actual, expected):
    assert stdio_equal(actual, expected, **TOL)


@pytest.mark.parametrize("actual, expected", [
    ("1 2 3\n", "1 2"), ("YES\n", "yes\n"), ("0.34\n", "0.333333"), ("1\n2\n", "1 2\n"), ("nan\n", "0\n"),
    ("x\n\ny\n", "x\ny\n"), ("12\n", "1 2\n"), ("inf\n", "1e308\n"),
])
def test_stdio_outputs_that_do_not(actual, expected):
    assert not stdio_equal(actual, expected, **TOL)


def test_non_finite_numbers_match_only_as_identical_text():
    assert stdio_equal("nan\n", "nan\n", **TOL) and not stdio_equal("nan\n", "NaN\n", **TOL)


@pytest.mark.parametrize("actual, expected", [
    ((1, 2), [1, 2]), ([(1, "a")], [[1, "a"]]), (0.1 + 0.2, 0.3), (2, 2.0), ({1: "x"}, {"1": "x"}),
    ({True: 1}, {"true": 1}), (None, None), ("é", "é"), ([[]], [[]]),
])
def test_call_values_that_match(actual, expected):
    assert value_equal(actual, expected, **TOL)


@pytest.mark.parametrize("actual, expected", [
    (1, True), (True, 1), ([1, 2], [2, 1]), ({1, 2}, [1, 2]), ("1", 1), (None, 0), ([1], [1, 2]), (0.31, 0.3),
    ({"a": 1}, {"a": 1, "b": 2}),
])
def test_call_values_that_do_not(actual, expected):
    assert not value_equal(actual, expected, **TOL)


def _outcome(i, status, public=True):
    return TestOutcome(index=i, public=public, kind="assert", name=f"t{i}", status=status)


def test_rewards_over_all_or_private_tests():
    r = ExecResult(status="failed", outcomes=(_outcome(0, "passed"), _outcome(1, "failed"),
                                              _outcome(2, "passed", False), _outcome(3, "passed", False)))
    assert r.pass_fraction == 0.75
    assert r.reward() == 0.75 and r.reward(kind="binary") == 0.0
    assert r.reward(tests="private") == 1.0 and r.reward(tests="private", kind="binary") == 1.0
    with pytest.raises(ValueError):
        r.reward(tests="public")


def test_private_reward_falls_back_to_all_tests_when_a_task_has_none():
    r = ExecResult(status="failed", outcomes=(_outcome(0, "passed"), _outcome(1, "failed")))
    assert r.reward(tests="private") == 0.5


def test_syntax_errors_and_missing_code_score_zero():
    task = CodeTask(task_id="t", prompt="p", entry_point="f", public_tests=(TestCase(kind="assert", code="assert f()"),))
    nc = ExecResult.no_code(task)
    assert nc.status == "no_code" and nc.reward() == 0.0 and nc.n_tests == 1
    assert ExecResult(status="syntax_error", outcomes=(_outcome(0, "passed"),)).reward() == 0.0


def test_overall_status_names_the_most_severe_failure():
    assert overall_status([_outcome(0, "passed")]) == "passed"
    assert overall_status([_outcome(0, "failed"), _outcome(1, "timeout")]) == "timeout"
    assert overall_status([_outcome(0, "runtime_error"), _outcome(1, "output_limit")]) == "output_limit"
    assert overall_status([]) == "failed"
    assert overall_status([_outcome(0, "passed")], "syntax_error") == "syntax_error"


def test_results_roundtrip_through_dicts():
    r = ExecResult(status="failed", outcomes=(_outcome(0, "failed"),), task_id="x", stdout="out", wall_s=0.5)
    assert ExecResult.from_dict(r.to_dict()) == r


def test_config_from_a_plain_mapping_and_its_validation():
    cfg = ExecutorConfig.from_dict({"test_timeout_s": 2, "require_layers": ["userns"], "workers": 1})
    assert cfg.require_layers == ("userns",) and cfg.n_workers == 1
    with pytest.raises(ValueError, match="unknown key"):
        ExecutorConfig.from_dict({"timeout": 2})
    with pytest.raises(ValueError, match="oversubscribe"):
        ExecutorConfig(workers=usable_cores() + 1)
    assert ExecutorConfig(workers=usable_cores() + 1, oversubscribe=True).n_workers == usable_cores() + 1
    with pytest.raises(ValueError, match="both name"):
        ExecutorConfig(disable_layers=("netns",))
    for bad in (dict(reward_kind="mean"), dict(test_timeout_s=0), dict(disable_layers=("seccomp",), require_layers=()),
                dict(judge_fork="never"), dict(wall_factor=0.5)):
        with pytest.raises(ValueError):
            ExecutorConfig(**bad)
    assert ExecutorConfig().n_workers == usable_cores()
