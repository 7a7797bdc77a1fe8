"""Memory planner: per-device bytes of every phase of a MURPHY step, before launching it (``murphy-plan``).

``plan_for_config(config, devices, device_memory=...)`` is the entry point;
``estimate`` holds the arithmetic, ``measure`` compiles the real programs to
check it, docs/scaling.md ("Memory planner") explains what is counted.
"""
from murphy_jax.plan.estimate import Item, Phase, Plan, plan
from murphy_jax.plan.from_config import HARDWARE, measure_for_config, plan_for_config
from murphy_jax.plan.workload import GenProgram, MeshSizes, Workload, workload_from_config

__all__ = ["HARDWARE", "GenProgram", "Item", "MeshSizes", "Phase", "Plan", "Workload", "measure_for_config", "plan",
           "plan_for_config", "workload_from_config"]
