"""Tiny random HF checkpoints of every supported family, built offline with transformers (torch).

Test-only: needs ``torch``. Weights are drawn with a larger spread than HF's
init (std 0.02 gives near-zero logits, which would make parity checks pass
too easily), and norm scales are jittered around 1 so a missing or misplaced
norm changes the logits visibly.
"""
from __future__ import annotations

import os

# Each variant exercises a different corner: GQA ratios, tied/untied heads,
# biases, explicit head dims that differ from hidden/heads, RoPE scalings,
# q/k norms and post-norm.
VARIANTS: dict[str, dict] = {
    "llama": dict(model_type="llama", hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, rope_theta=5000.0, tie_word_embeddings=False),
    "llama_tied_bias_llama3": dict(
        model_type="llama", hidden_size=48, intermediate_size=80, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=4, head_dim=10, attention_bias=True, mlp_bias=True, tie_word_embeddings=True,
        rope_theta=10000.0, max_position_embeddings=256,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 16}),
    "qwen2": dict(model_type="qwen2", hidden_size=72, intermediate_size=112, num_hidden_layers=2,
                  num_attention_heads=6, num_key_value_heads=2, tie_word_embeddings=True, rope_theta=1e6,
                  rope_scaling={"rope_type": "linear", "factor": 2.0}),
    "qwen3": dict(model_type="qwen3", hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=1, head_dim=24, tie_word_embeddings=False,
                  rope_theta=1e6, max_position_embeddings=256,
                  rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}),
    "olmo2": dict(model_type="olmo2", hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=False, rope_theta=500000.0),
}

FAMILIES = ("llama", "qwen2", "qwen3", "olmo2")


def hf_config(variant: str, vocab_size: int = 320, **overrides):
    """The transformers config object for a tiny variant."""
    from transformers import AutoConfig

    kw = dict(VARIANTS[variant])
    kw.setdefault("max_position_embeddings", 512)
    kw.update(vocab_size=vocab_size, bos_token_id=1, eos_token_id=2, pad_token_id=0, **overrides)
    model_type = kw.pop("model_type")
    return AutoConfig.for_model(model_type, **kw)


def make_tiny_hf(variant: str, out_dir: str, *, seed: int = 0, vocab_size: int = 320, std: float = 0.15,
                 **overrides) -> str:
    """Build, randomise and ``save_pretrained`` a tiny model; returns ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM

    cfg = hf_config(variant, vocab_size, **overrides)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(std * torch.randn_like(p))
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir)
    return out_dir


def load_torch(path: str, **kw):
    """The transformers reference model (float32, eval mode) for a directory or GGUF file."""
    import torch
    from transformers import AutoModelForCausalLM

    if path.endswith(".gguf"):
        d, fn = os.path.split(os.path.abspath(path))
        return AutoModelForCausalLM.from_pretrained(d, gguf_file=fn, dtype=torch.float32, **kw).eval()
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kw).eval()
