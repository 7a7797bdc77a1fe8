"""Tiny random GGUF files (Qwen2 or Llama architecture) with tensors in many GGUF storage types, for tests.

gguf-py can quantise only some types (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0); it has no K-quant
quantiser. K-quant tensors (Q2_K..Q6_K) are therefore written as random blocks whose f16 scale
fields are overwritten with small finite values: every such block is a valid K-quant block, and the
values it stands for are whatever llama.cpp's (and gguf-py's) decoder says, which is what the tests
compare against transformers.
"""
from __future__ import annotations

import itertools

import numpy as np

# Byte offsets of the f16 super-block scale (d) and min scale (dmin) in one K-quant block.
_K_SCALE_FIELDS = {"Q2_K": (80, 82), "Q3_K": (108,), "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,)}
# Typical d per type so that random codes x sub-block scales give weights of about 0.05 (not ~5).
_K_D = {"Q2_K": 2e-3, "Q3_K": 1e-3, "Q4_K": 1.5e-4, "Q5_K": 8e-5, "Q6_K": 4e-5}
# Types spread over the weight matrices, in turn (norms and biases stay F32 as llama.cpp writes them).
DEFAULT_TYPES = ("Q4_K", "Q6_K", "Q5_K", "Q8_0", "Q4_0", "Q2_K", "Q3_K", "Q4_1", "Q5_0", "Q5_1", "F16", "BF16",
                 "F32")
# GPT-2 byte-level alphabet, so transformers' GGUF tokenizer converter gets a real BPE vocabulary.
_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _byte_alphabet() -> list[str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def encode_tensor(values: np.ndarray, qtype_name: str, rng: np.random.Generator) -> tuple[np.ndarray, object]:
    """(raw data, GGMLQuantizationType) for a float32 matrix; K-quant types get random valid blocks instead."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, quants

    qtype = GGMLQuantizationType[qtype_name]
    if qtype_name == "F32":
        return values.astype(np.float32), qtype
    if qtype_name not in _K_SCALE_FIELDS:
        return quants.quantize(values.astype(np.float32), qtype), qtype
    block, size = GGML_QUANT_SIZES[qtype]
    rows, cols = values.shape
    assert cols % block == 0, f"{qtype_name} rows need a multiple of {block} values"
    raw = rng.integers(0, 256, size=(rows, cols // block, size), dtype=np.uint8)
    for k, off in enumerate(_K_SCALE_FIELDS[qtype_name]):
        d = _K_D[qtype_name] * (1 if k == 0 else 0.5)
        scale = rng.uniform(0.5 * d, 1.5 * d, size=(rows, cols // block)).astype(np.float16)
        raw[:, :, off:off + 2] = scale.view(np.uint8).reshape(rows, cols // block, 2)
    return raw.reshape(rows, cols // block * size), qtype


def write_tiny_gguf(path: str, arch: str = "qwen2", *, types=DEFAULT_TYPES, seed: int = 0, hidden: int = 256,
                    heads: int = 4, kv_heads: int = 2, intermediate: int = 512, layers: int = 2,
                    tied: bool = False) -> dict:
    """Write a random ``arch`` ("qwen2" or "llama") model with a byte-level BPE tokenizer; returns {tensor: type}."""
    from gguf import GGUFWriter, TokenType

    rng = np.random.default_rng(seed)
    alphabet = _byte_alphabet()
    merges = ["Ġ t", "Ġ a", "i n", "h e", "Ġt he", "e r", "r e", "o n"]
    tokens = alphabet + [m.replace(" ", "") for m in merges] + _SPECIAL
    vocab = len(tokens)
    head_dim = hidden // heads
    w = GGUFWriter(path, arch)
    w.add_name(f"tiny-{arch}")
    w.add_block_count(layers)
    w.add_context_length(256)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(intermediate)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_freq_base(1e6 if arch == "qwen2" else 1e4)
    w.add_layer_norm_rms_eps(1e-6 if arch == "qwen2" else 1e-5)
    if arch == "llama":
        w.add_rope_dimension_count(head_dim)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2" if arch == "qwen2" else "default")
    w.add_token_list(tokens)
    w.add_token_types([int(TokenType.NORMAL)] * (vocab - len(_SPECIAL)) + [int(TokenType.CONTROL)] * len(_SPECIAL))
    w.add_token_merges(merges)
    w.add_bos_token_id(vocab - 3)
    w.add_eos_token_id(vocab - 1)
    w.add_pad_token_id(vocab - 3)
    w.add_add_bos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    kinds = itertools.cycle(types)
    written: dict[str, str] = {}

    def matrix(name, rows, cols, scale=0.05):
        qt = next(kinds)
        data, qtype = encode_tensor(rng.normal(0, scale, size=(rows, cols)).astype(np.float32), qt, rng)
        w.add_tensor(name, data, raw_dtype=qtype)
        written[name] = qt

    def vector(name, n, base=0.0, scale=0.1):
        w.add_tensor(name, (base + rng.normal(0, scale, size=n)).astype(np.float32))
        written[name] = "F32"

    matrix("token_embd.weight", vocab, hidden, 0.1)
    for i in range(layers):
        p = f"blk.{i}."
        vector(p + "attn_norm.weight", hidden, 1.0)
        matrix(p + "attn_q.weight", heads * head_dim, hidden)
        matrix(p + "attn_k.weight", kv_heads * head_dim, hidden)
        matrix(p + "attn_v.weight", kv_heads * head_dim, hidden)
        if arch == "qwen2":
            vector(p + "attn_q.bias", heads * head_dim, 0.0, 0.5)
            vector(p + "attn_k.bias", kv_heads * head_dim, 0.0, 0.5)
            vector(p + "attn_v.bias", kv_heads * head_dim, 0.0, 0.5)
        matrix(p + "attn_output.weight", hidden, heads * head_dim)
        vector(p + "ffn_norm.weight", hidden, 1.0)
        matrix(p + "ffn_gate.weight", intermediate, hidden)
        matrix(p + "ffn_up.weight", intermediate, hidden)
        matrix(p + "ffn_down.weight", hidden, intermediate)
    vector("output_norm.weight", hidden, 1.0)
    if not tied:
        matrix("output.weight", vocab, hidden)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return written
