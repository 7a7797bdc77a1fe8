"""group_advantages and group_spread: definitions, edge cases and errors."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.rl.advantages import group_advantages, group_spread


def test_population_std_not_sample_std():
    v = [1.0, 2.0, 3.0, 4.0]
    A = group_advantages(v, [0] * 4, num_groups=1, eps=0.0)
    pop = np.std(v)  # ddof=0
    np.testing.assert_allclose(A, (np.array(v) - 2.5) / pop, rtol=1e-6)
    np.testing.assert_allclose(group_spread(v, [0] * 4, num_groups=1), [pop], rtol=1e-6)


def test_eps_is_added_to_std():
    A = group_advantages([0.0, 1.0], [0, 0], num_groups=1, eps=0.5)
    np.testing.assert_allclose(A, [-0.5 / 1.0, 0.5 / 1.0])


def test_singletons_flat_groups_and_unused_ids_give_zero():
    # Group ids need not be contiguous; 1 and 3 are unused, 4 is a singleton,
    # 2 holds equal values whose float mean is not exactly the value.
    v = [0.3, 0.7, 0.1, 0.1, 0.1, 5.0]
    g = [0, 0, 2, 2, 2, 4]
    A = group_advantages(v, g, num_groups=5)
    assert A[2:].tolist() == [0.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(A[:2], [-1, 1], atol=1e-5)
    assert group_advantages(v, g, num_groups=5, normalize_std=False)[2:].tolist() == [0.0] * 4
    np.testing.assert_array_equal(group_spread(v, g, num_groups=5)[[1, 2, 3, 4]], [0, 0, 0, 0])


def test_members_need_not_be_contiguous():
    A = group_advantages([1.0, 10.0, 0.0, 20.0], [0, 1, 0, 1], num_groups=2, normalize_std=False)
    np.testing.assert_array_equal(A, [0.5, -5.0, -0.5, 5.0])


def test_shift_invariance_with_large_offset():
    rng = np.random.default_rng(0)
    v = rng.random(50).astype(np.float32)
    g = rng.integers(0, 7, 50)
    a = group_advantages(v, g, num_groups=7)
    b = group_advantages(v + np.float32(100.0), g, num_groups=7)
    # The offset costs float32 resolution of the inputs themselves (ulp(100) ~ 8e-6).
    np.testing.assert_allclose(a, b, atol=2e-3)


def test_traced_path():
    f = jax.jit(lambda v, g: group_advantages(v, g, num_groups=2, normalize_std=False))
    out = f(jnp.array([1.0, 3.0, 5.0]), jnp.array([0, 0, 1]))
    np.testing.assert_array_equal(np.asarray(out), [-1.0, 1.0, 0.0])


@pytest.mark.parametrize("values, group, num_groups, match", [
    ([0.0, 1.0], [0, 2], 2, r"group\[1\]=2: must lie in \[0, num_groups=2\)"),
    ([0.0, 1.0], [0, -1], 2, r"group\[1\]=-1"),
    ([0.0, float("nan")], [0, 0], 1, r"values\[1\]=nan"),
    ([0.0, 1.0], [0, 0], 0, "num_groups=0"),
    ([0.0, 1.0], [0], 1, "same length"),
])
def test_errors(values, group, num_groups, match):
    with pytest.raises(ValueError, match=match):
        group_advantages(values, group, num_groups=num_groups)
