"""Sandboxed, tamper-proof, fast test execution with structured feedback (see docs/executor.md).

    from murphy_jax.execution import Executor, ExecutorConfig
    with Executor(ExecutorConfig()) as ex:
        result = ex.run(program, task)          # ExecResult
        text = render_feedback(result, task)    # what the policy sees next turn
"""
from .config import LAYERS, ExecutorConfig
from .executor import BatchFuture, Executor
from .feedback import render_feedback
from .result import ExecResult, InfraError, TestOutcome

__all__ = ["BatchFuture", "ExecResult", "Executor", "ExecutorConfig", "InfraError", "LAYERS", "TestOutcome",
           "render_feedback"]
