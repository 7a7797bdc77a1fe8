"""Policy models: the NNX decoder family (Llama, Qwen2/2.5, Qwen3, OLMo-2), checkpoint I/O and sharding."""
from murphy_jax.models.api import ModelNotFoundError, from_pretrained, load_config, load_tokenizer, resolve
from murphy_jax.models.config import ConfigError, ModelConfig
from murphy_jax.models.decoder import Decoder, abstract_decoder, positions_from_mask
from murphy_jax.models.layers import KVCache, forward, hidden_states, logits_from_hidden
from murphy_jax.models.safetensors_io import WeightsError
from murphy_jax.models.sharding import DEFAULT_RULES, make_mesh, param_shardings, shard_params
from murphy_jax.models.weights import build_model, export_hf, load_params

__all__ = [
    "ConfigError", "DEFAULT_RULES", "Decoder", "KVCache", "ModelConfig", "ModelNotFoundError", "WeightsError",
    "abstract_decoder", "build_model", "export_hf", "forward", "from_pretrained", "hidden_states",
    "load_config", "load_params", "load_tokenizer", "logits_from_hidden", "make_mesh", "param_shardings",
    "positions_from_mask", "resolve", "shard_params",
]
