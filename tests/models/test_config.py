"""ModelConfig.from_hf reads transformers 4.x and 5.x field names into the same config."""
import jax.numpy as jnp

from murphy_jax.models import ModelConfig

BASE = dict(vocab_size=100, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=4096)


def test_v4_and_v5_rope_fields_agree():
    v4 = dict(BASE, model_type="llama", rope_theta=500000.0,
              rope_scaling={"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                            "original_max_position_embeddings": 8192})
    v5 = dict(BASE, model_type="llama",
              rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                               "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                               "original_max_position_embeddings": 8192})
    a, b = ModelConfig.from_hf(v4), ModelConfig.from_hf(v5)
    assert a == b and hash(a) == hash(b)
    assert a.rope_type == "llama3" and a.rope_theta == 500000.0 and a.rope_scaling_dict["factor"] == 8.0


def test_family_switches():
    q2 = ModelConfig.from_hf(dict(BASE, model_type="qwen2"))
    assert q2.qkv_bias and not q2.o_bias and q2.qk_norm == "none"
    q3 = ModelConfig.from_hf(dict(BASE, model_type="qwen3", head_dim=128))
    assert q3.qk_norm == "head" and q3.head_dim == 128 and not q3.qkv_bias
    o2 = ModelConfig.from_hf(dict(BASE, model_type="olmo2"))
    assert o2.norm_placement == "post" and o2.qk_norm == "full" and o2.norm_weight_order == "before_cast"
    ll = ModelConfig.from_hf(dict(BASE, model_type="llama", attention_bias=True, mlp_bias=True))
    assert ll.qkv_bias and ll.o_bias and ll.mlp_bias and ll.head_dim == 8


def test_defaults_bf16_and_overrides():
    c = ModelConfig.from_hf(dict(BASE, model_type="llama"))
    assert c.dtype == jnp.bfloat16 and c.param_dtype == jnp.bfloat16
    f = c.replace(dtype=jnp.float32, param_dtype=jnp.float32, remat="full")
    assert f.dtype == jnp.float32 and f.remat == "full" and c.remat == "none"


def test_num_params_matches_smollm2_shape():
    smol = ModelConfig.from_hf(dict(model_type="llama", vocab_size=49152, hidden_size=576, intermediate_size=1536,
                                    num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                                    tie_word_embeddings=True))
    assert smol.num_params() == 134_515_008  # SmolLM2-135M's published parameter count
