"""Credit propagation and advantages on hand-worked trees, plus input validation."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.rl import credit
from murphy_jax.rl.advantages import group_advantages
from murphy_jax.rl.credit import propagate_rewards

EPS = 1e-6
# gamma = 0.5 and rewards in quarters keep float32 arithmetic exact, so R is
# compared with ==; gamma = 0.9 cases use a tolerance.
G = 0.5


def std_adv(dev, std):
    return np.asarray(dev, np.float64) / (std + EPS)


# --- depth 1: one task, three turn-1 samples, no children ------------------
D1_PARENT = [-1, -1, -1]
D1_REWARD = [0.0, 0.5, 1.0]
D1_GROUP = [0, 0, 0]

# --- depth 2, ragged fan-out (3 children under node 0, 2 under node 1, none under the success) ---
#   0 (r=0)  -> 3 (0), 4 (1), 5 (0.5)
#   1 (.25)  -> 6 (0), 7 (0.5)
#   2 (1)
D2_PARENT = [-1, -1, -1, 0, 0, 0, 1, 1]
D2_REWARD = [0.0, 0.25, 1.0, 0.0, 1.0, 0.5, 0.0, 0.5]
D2_GROUP = [0, 0, 0, 1, 1, 1, 2, 2]

# --- depth 3, two tasks ----------------------------------------------------
#   task 0: 0 (0) -> 2 (0) -> 5 (1), 6 (0)
#                 -> 3 (.25)
#   task 1: 1 (0) -> 4 (0) -> 7 (0), 8 (.5)
D3_PARENT = [-1, -1, 0, 0, 1, 2, 2, 4, 4]
D3_REWARD = [0.0, 0.0, 0.0, 0.25, 0.0, 1.0, 0.0, 0.0, 0.5]
D3_GROUP = [0, 1, 2, 2, 3, 4, 4, 5, 5]


@pytest.mark.parametrize("strategy", ["mars", "mers", "none"])
def test_depth1_credit_is_the_reward_and_advantages_are_standardised(strategy):
    R = propagate_rewards(D1_PARENT, D1_REWARD, strategy=strategy, gamma=G)
    np.testing.assert_array_equal(R, D1_REWARD)
    # mean 0.5, population std sqrt(1/6)
    A = group_advantages(R, D1_GROUP, num_groups=1)
    np.testing.assert_allclose(A, std_adv([-0.5, 0, 0.5], np.sqrt(1 / 6)), rtol=1e-6)
    A0 = group_advantages(R, D1_GROUP, num_groups=1, normalize_std=False)
    np.testing.assert_array_equal(A0, [-0.5, 0.0, 0.5])


def test_depth2_ragged_mars():
    R = propagate_rewards(D2_PARENT, D2_REWARD, strategy="mars", gamma=G)
    # node 0: max(0, .5 * max(0, 1, .5)) = .5 ; node 1: max(.25, .5 * .5) = .25
    np.testing.assert_array_equal(R, [0.5, 0.25, 1.0, 0.0, 1.0, 0.5, 0.0, 0.5])
    A = group_advantages(R, D2_GROUP, num_groups=3)
    # group 0: R = [.5, .25, 1], mean 7/12, dev [-1, -4, 5]/12, var = 42/144/3 = 7/72
    # group 1: R = [0, 1, .5], mean .5, dev [-.5, .5, 0], var 1/6
    # group 2: R = [0, .5], mean .25, dev [-.25, .25], std .25
    expect = np.concatenate([std_adv(np.array([-1, -4, 5]) / 12, np.sqrt(7 / 72)),
                             std_adv([-0.5, 0.5, 0.0], np.sqrt(1 / 6)), std_adv([-0.25, 0.25], 0.25)])
    np.testing.assert_allclose(A, expect, rtol=1e-5)


def test_depth2_ragged_mers():
    R = propagate_rewards(D2_PARENT, D2_REWARD, strategy="mers", gamma=G)
    # node 0: max(0, .5 * mean(0, 1, .5)) = .25 ; node 1: max(.25, .5 * mean(0, .5)) = .25
    np.testing.assert_array_equal(R, [0.25, 0.25, 1.0, 0.0, 1.0, 0.5, 0.0, 0.5])
    A = group_advantages(R, D2_GROUP, num_groups=3, normalize_std=False)
    # group 0: R = [.25, .25, 1], mean .5 -> [-.25, -.25, .5]
    np.testing.assert_array_equal(A, [-0.25, -0.25, 0.5, -0.5, 0.5, 0.0, -0.25, 0.25])


def test_depth2_none_keeps_rewards():
    R = propagate_rewards(D2_PARENT, D2_REWARD, strategy="none", gamma=G)
    np.testing.assert_array_equal(R, D2_REWARD)
    A = group_advantages(R, D2_GROUP, num_groups=3, normalize_std=False)
    # group 0: [0, .25, 1], mean 5/12
    np.testing.assert_allclose(A[:3], np.array([-5, -2, 7]) / 12, rtol=1e-6)


def test_depth2_gamma_0_9():
    R = propagate_rewards(D2_PARENT, D2_REWARD, strategy="mars", gamma=0.9)
    np.testing.assert_allclose(R[:2], [0.9, max(0.25, 0.9 * 0.5)], rtol=1e-6)
    R = propagate_rewards(D2_PARENT, D2_REWARD, strategy="mers", gamma=0.9)
    np.testing.assert_allclose(R[:2], [0.9 * 0.5, max(0.25, 0.9 * 0.25)], rtol=1e-6)


def test_depth3():
    mars = propagate_rewards(D3_PARENT, D3_REWARD, strategy="mars", gamma=G)
    # 2 = .5*max(1, 0) = .5 ; 0 = .5*max(.5, .25) = .25 ; 4 = .5*.5 = .25 ; 1 = .5*.25 = .125
    np.testing.assert_array_equal(mars, [0.25, 0.125, 0.5, 0.25, 0.25, 1.0, 0.0, 0.0, 0.5])
    mers = propagate_rewards(D3_PARENT, D3_REWARD, strategy="mers", gamma=G)
    # 2 = .5*mean(1, 0) = .25 ; 0 = .5*mean(.25, .25) = .125 ; 4 = .5*mean(0, .5) = .125 ; 1 = .0625
    np.testing.assert_array_equal(mers, [0.125, 0.0625, 0.25, 0.25, 0.125, 1.0, 0.0, 0.0, 0.5])
    np.testing.assert_array_equal(propagate_rewards(D3_PARENT, D3_REWARD, strategy="none", gamma=G), D3_REWARD)
    # Roots of different tasks are separate groups here (0, 1); node 4 is a singleton group.
    A = group_advantages(mars, D3_GROUP, num_groups=6, normalize_std=False)
    # group 2: [.5, .25] -> +-.125 ; group 4: [1, 0] -> +-.5 ; group 5: [0, .5] -> -+.25
    np.testing.assert_array_equal(A, [0, 0, 0.125, -0.125, 0, 0.5, -0.5, -0.25, 0.25])
    A = group_advantages(mars, D3_GROUP, num_groups=6)
    np.testing.assert_allclose(A, [0, 0, 1, -1, 0, 1, -1, -1, 1], atol=1e-5)


def test_all_pass_and_all_fail():
    parent = [-1, -1, -1, -1]
    for strategy in ("mars", "mers", "none"):
        R = propagate_rewards(parent, [1.0] * 4, strategy=strategy, gamma=G)
        np.testing.assert_array_equal(R, [1.0] * 4)
        np.testing.assert_array_equal(group_advantages(R, [0] * 4, num_groups=1), [0.0] * 4)
    fail_parent = [-1, -1, 0, 0, 1, 1, 2, 2]
    for strategy in ("mars", "mers", "none"):
        R = propagate_rewards(fail_parent, [0.0] * 8, strategy=strategy, gamma=G)
        np.testing.assert_array_equal(R, [0.0] * 8)
        A = group_advantages(R, [0, 0, 1, 1, 2, 2, 3, 3], num_groups=4)
        np.testing.assert_array_equal(A, [0.0] * 8)


def test_success_never_lowered_and_gamma_zero_is_none():
    parent, reward = [-1, 0, 1], [0.75, 0.0, 1.0]
    # MaRS takes the max, so a node's own reward is a floor.
    np.testing.assert_array_equal(propagate_rewards(parent, reward, strategy="mars", gamma=G), [0.75, 0.5, 1.0])
    np.testing.assert_array_equal(propagate_rewards(parent, reward, strategy="mars", gamma=0.0), reward)


def test_empty_tree():
    assert propagate_rewards([], [], strategy="mars", gamma=G).shape == (0,)


def test_traced_path_matches_host_path():
    f = jax.jit(lambda p, r: propagate_rewards(p, r, strategy="mers", gamma=G))
    out = f(jnp.asarray(D3_PARENT, jnp.int32), jnp.asarray(D3_REWARD, jnp.float32))
    np.testing.assert_array_equal(np.asarray(out), propagate_rewards(D3_PARENT, D3_REWARD, strategy="mers", gamma=G))


def test_node_depth():
    np.testing.assert_array_equal(np.asarray(credit.node_depth(jnp.asarray(D3_PARENT))), [0, 0, 1, 1, 1, 2, 2, 2, 2])


def test_compilations_are_bucketed():
    before = credit._propagate_jit._cache_size()
    for n in (3, 17, 100, 255):
        propagate_rewards([-1] + list(range(n - 1)), np.linspace(0, 1, n), strategy="mars", gamma=0.3)
    # All sizes up to the minimum bucket share one compilation (gamma is traced).
    assert credit._propagate_jit._cache_size() - before <= 1


@pytest.mark.parametrize("parent, reward, match", [
    ([-1, 1], [0, 0], r"parent\[1\]=1: points forward"),
    ([-1, 0, 2], [0, 0, 0], r"parent\[2\]=2: points forward"),
    ([-1, 5], [0, 0], r"parent\[1\]=5: out of range"),
    ([-1, -2], [0, 0], r"parent\[1\]=-2"),
    ([-1, 0], [0, float("nan")], r"reward\[1\]=nan"),
    ([-1, 0], [0, float("inf")], r"reward\[1\]=inf"),
    ([-1, 0], [0], "same length"),
    ([[-1, 0]], [0, 0], "1-D"),
    ([-1, 0.5], [0, 0], "integers"),
])
def test_bad_inputs_are_named(parent, reward, match):
    with pytest.raises(ValueError, match=match):
        propagate_rewards(parent, reward, strategy="mars", gamma=G)


def test_bad_strategy_and_gamma():
    with pytest.raises(ValueError, match=r"rl.credit.strategy='max'.*mars"):
        propagate_rewards([-1], [0], strategy="max", gamma=G)
    with pytest.raises(ValueError, match="rl.credit.gamma=1.5"):
        propagate_rewards([-1], [0], strategy="mars", gamma=1.5)
