"""CompileWatch counts real XLA compilations from jax.monitoring events, and nothing for cached programs."""
import threading

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.utils.compiles import CompileWatch


def test_counts_fresh_compiles_not_cached_calls():
    f = jax.jit(lambda x: jnp.sin(x) * 2)
    three, five = np.ones(3, np.float32), np.ones(5, np.float32)  # numpy inputs: no eager jnp programs
    with CompileWatch() as watch:
        f(three).block_until_ready()
        first = watch.take()
        f(three * 2).block_until_ready()  # same shape: the jit cache serves it
        again = watch.take()
        f(five).block_until_ready()  # a new shape compiles again
        new_shape = watch.take()
    assert first["compile/count"] == 1 and first["compile/seconds"] > 0
    assert again == {"compile/count": 0.0, "compile/seconds": 0.0, "compile/cache_hits": 0.0, "compile/trace_s": 0.0}
    assert new_shape["compile/count"] == 1 and watch.last_programs == ["jit(<lambda>)"]


def test_counts_compiles_of_other_threads_and_stops_when_uninstalled():
    x = np.ones(7, np.float32)
    watch = CompileWatch().install()
    t = threading.Thread(target=lambda: jax.jit(lambda v: v + 41)(x).block_until_ready())
    t.start()
    t.join()
    assert watch.take()["compile/count"] == 1
    watch.uninstall()
    jax.jit(lambda v: v - 3)(x).block_until_ready()
    assert watch.take()["compile/count"] == 0
