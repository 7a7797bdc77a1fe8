"""Generation: jitted prefill + decode with a KV cache, sampling controls and prefix sharing."""
from murphy_jax.sampling.engine import compilations
from murphy_jax.sampling.params import SamplingError, SamplingParams
from murphy_jax.sampling.processing import sample, sampling_logprobs
from murphy_jax.sampling.sampler import GenerationResult, Sample, Sampler, host_check

__all__ = ["GenerationResult", "Sample", "Sampler", "SamplingError", "SamplingParams", "compilations", "host_check",
           "sample", "sampling_logprobs"]
