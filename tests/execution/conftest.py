"""Fixtures for executor tests (helpers live in exec_helpers.py)."""
import pytest

from exec_helpers import start_executor


@pytest.fixture(scope="module")
def ex():
    """A strict executor shared by a test module."""
    executor = start_executor()
    yield executor
    executor.close()
