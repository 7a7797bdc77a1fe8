"""Rollout trees and the multi-turn, feedback-conditioned expansion loop."""
from murphy_jax.rollout.expand import RolloutConfig, RolloutStats, run_rollout
from murphy_jax.rollout.generator import Generation, GenRequest, Generator, ModelGenerator, ScriptedGenerator
from murphy_jax.rollout.tree import RolloutTree, RolloutTreeError

__all__ = ["GenRequest", "Generation", "Generator", "ModelGenerator", "RolloutConfig", "RolloutStats", "RolloutTree",
           "RolloutTreeError", "ScriptedGenerator", "run_rollout"]
