"""RL math for MURPHY: credit (MaRS/MeRS), group advantages, pruning (InterP/IntraP), GRPO loss, batching.

Modules: ``credit``, ``advantages``, ``pruning``, ``scoring`` (all three on a
RolloutTree), ``loss``, ``batching``, ``accounting``, ``tree_metrics`` and
``defaults`` (every knob with its default). Definitions: docs/algorithm.md.
"""
