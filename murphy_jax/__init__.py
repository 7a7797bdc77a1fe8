"""murphy_jax: MURPHY (multi-turn GRPO with feedback-conditioned rollout trees) in JAX."""

__version__ = "0.1.0"
