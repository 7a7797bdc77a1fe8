"""Checkpoint saves that would not fit on their disk: refused up front, earlier steps kept."""
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P

from murphy_jax.train.checkpoint import Checkpointer, CheckpointSpaceError, state_bytes


def _reserve_beyond_disk(path) -> float:
    """A reserve (GiB) larger than the whole disk holding ``path``: no save can satisfy it."""
    return (shutil.disk_usage(path).total + 2**30) / 2**30


def test_state_bytes_counts_each_array_once_however_it_is_placed():
    mesh = jax.make_mesh((len(jax.devices()),), ("d",), axis_types=(jax.sharding.AxisType.Auto,))
    x = np.arange(8 * 4, dtype=np.float32).reshape(8, 4)
    split = jax.device_put(x, NamedSharding(mesh, P("d")))
    replicated = jax.device_put(x, NamedSharding(mesh, P()))
    assert len(jax.devices()) > 1 and len(split.addressable_shards) == len(replicated.addressable_shards) > 1
    tree = {"split": split, "replicated": replicated, "bf16": jnp.zeros((3, 5), jnp.bfloat16),
            "count": np.int64(7)}
    assert state_bytes(tree) == 128 + 128 + 30 + 8


def test_save_that_would_not_fit_is_refused_and_the_last_step_kept(tmp_path):
    directory = str(tmp_path / "checkpoints")
    state = {"w": jnp.arange(1000, dtype=jnp.float32), "step": jnp.int32(3)}
    ok = Checkpointer(directory, keep=3, async_save=False)
    assert ok.save(1, state, {"rl_step": 1})
    ok.close()

    full = Checkpointer(directory, keep=3, async_save=False, min_free_gb=_reserve_beyond_disk(directory))
    with pytest.raises(CheckpointSpaceError) as err:
        full.save(2, state, {"rl_step": 2})
    msg = str(err.value)
    assert "checkpoint step 2 not saved" in msg and "min_free_gb" in msg and "resume from step 1" in msg
    assert sorted(os.listdir(directory)) == ["1"]  # nothing of step 2, not even orbax's temporary directory
    restored, meta = full.restore(state)
    assert meta == {"rl_step": 1}
    np.testing.assert_array_equal(np.asarray(restored["w"]), np.arange(1000, dtype=np.float32))
    full.close()


def test_first_save_refused_says_there_is_nothing_to_resume(tmp_path):
    ckpt = Checkpointer(str(tmp_path), keep=1, async_save=False, min_free_gb=_reserve_beyond_disk(tmp_path))
    with pytest.raises(CheckpointSpaceError, match="no earlier checkpoint exists"):
        ckpt.save(1, {"w": jnp.ones(4)}, {})
    assert ckpt.latest_step() is None


def test_negative_reserve_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="min_free_gb must be >= 0"):
        Checkpointer(str(tmp_path), keep=1, min_free_gb=-1)
