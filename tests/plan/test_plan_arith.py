"""The planner's arithmetic: exact sharded parameter bytes, workload shapes, scaling of each term, verdicts."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from configs import base, tiny
from murphy_jax.models import ModelConfig, abstract_decoder, build_model, export_hf, from_pretrained, make_mesh
from murphy_jax.plan.estimate import kv_cache_bytes, param_bytes, param_leaves, plan
from murphy_jax.plan.from_config import plan_for_config
from murphy_jax.plan.models import KNOWN_MODELS, model_config
from murphy_jax.plan.report import advice, parse_bytes
from murphy_jax.plan.workload import GenProgram, MeshSizes, Workload, resolve_mesh, workload_from_config
from murphy_jax.testing.tiny_hf import VARIANTS

MESHES = [(1, 8, 1), (1, 2, 4), (2, 2, 2), (8, 1, 1)]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """An HF directory per tiny variant (numpy random weights written with export_hf: no torch, no eager init)."""
    out, rng = {}, np.random.default_rng(0)
    for variant in VARIANTS:
        hf = {k: v for k, v in dict(VARIANTS[variant], vocab_size=200).items() if v is not None}
        cfg = ModelConfig.from_hf(hf, dtype=jnp.float32, param_dtype=jnp.float32)
        params = jax.tree.map(lambda x: rng.normal(size=x.shape).astype(np.float32), abstract_decoder(cfg).params())
        out[variant] = export_hf(build_model(cfg, params), str(tmp_path_factory.mktemp(variant)))
    return out


@pytest.mark.parametrize("mesh_shape", MESHES)
def test_sharded_param_bytes_equal_the_real_shards_on_every_device(checkpoints, mesh_shape):
    assert len(jax.devices()) == 8, "conftest must provide 8 fake CPU devices"
    mesh = make_mesh(*mesh_shape)
    for variant in VARIANTS:  # GQA ratios, odd head counts, biases, q/k norms, tied and untied heads
        model = from_pretrained(checkpoints[variant], dtype=jnp.float32, mesh=mesh)
        held = {d: 0 for d in jax.devices()}
        for leaf in jax.tree.leaves(model.params()):
            for shard in leaf.addressable_shards:
                held[shard.device] += shard.data.nbytes
        planned = param_bytes(param_leaves(model.config), MeshSizes(*mesh_shape), jnp.float32)
        assert set(held.values()) == {planned}, (variant, mesh_shape, held, planned)


@pytest.mark.parametrize("name,published", [("smollm2", 134.5e6), ("Qwen/Qwen3-1.7B", 1.72e9),
                                            ("Qwen/Qwen3-4B", 4.02e9), ("allenai/OLMo-2-1124-7B", 7.30e9)])
def test_presets_match_published_sizes_and_unsharded_bytes_match_num_params(name, published):
    cfg, source = model_config(name, dtype="bfloat16", param_dtype="float32")
    assert "preset" in source
    assert abs(cfg.num_params() - published) / published < 0.01
    assert param_bytes(param_leaves(cfg), MeshSizes(1, 1, 1), jnp.bfloat16) == 2 * cfg.num_params()


def test_local_checkpoint_is_read_without_weights(checkpoints):
    cfg, source = model_config(checkpoints["qwen3"], dtype="float32", param_dtype="float32", remat="dots")
    assert source == checkpoints["qwen3"] and cfg.model_type == "qwen3" and cfg.remat == "dots"
    assert (cfg.num_kv_heads, cfg.head_dim, cfg.vocab_size) == (1, 24, 200)


def test_smollm2_preset_equals_the_cached_checkpoint_config(smollm2_dir):
    from murphy_jax.models import load_config

    real = load_config(smollm2_dir, dtype=jnp.float32, param_dtype=jnp.float32)
    preset, _ = model_config("smollm2", dtype="float32", param_dtype="float32")
    for f in ("vocab_size", "hidden_size", "intermediate_size", "num_layers", "num_heads", "num_kv_heads", "head_dim",
              "tie_word_embeddings"):
        assert getattr(preset, f) == getattr(real, f), f


def test_tiny_config_workload():
    c = tiny.get_config()
    wl = workload_from_config(c, MeshSizes(1, 1, 1))
    assert (wl.micro_batch, wl.seq_len, wl.reference) == (8, 512, "none")
    # 2 tasks x (2 first attempts + 2 x 2 children) = 12 rows -> ceil(12 / 8) = 2 micro-batches.
    assert wl.num_micro == 2
    # Turn 1: 2 prompts x 2 samples -> a 4-row pool; turn 2: 4 failed nodes x 2 children -> 8 rows (max_rows 32:
    # the pool shrinks to the power of two needed); prompt bucket 512, 24 new tokens -> 32 slots; prefill batches
    # of all the turn's prompts (4096 // 512 = 8 tokens' worth, capped by rows // n).
    assert wl.generation == (GenProgram(1, 4, 2, 512, 32, 2), GenProgram(2, 8, 2, 512, 32, 4))
    # On 8 batch ways the sampler rounds the pool's rows up to a multiple of 8.
    assert workload_from_config(c, MeshSizes(1, 8, 1)).generation[0].rows == 8


@pytest.mark.parametrize("max_rows,needed,n,longest,max_new", [(64, 12, 2, 300, 24), (64, 500, 4, 2000, 512),
                                                                (32, 3, 1, 40, 16), (8, 8, 8, 9000, 100),
                                                                (64, 64, 16, 100, 1000)])
def test_pool_shape_is_the_samplers(max_rows, needed, n, longest, max_new):
    from murphy_jax.plan.workload import next_pow2, pool_shape
    from murphy_jax.sampling.sampler import Sampler

    sampler = Sampler(_smol(), eos_token_ids=[0], max_rows=max_rows, prompt_buckets=(64, 512, 2048, 9000))
    want = sampler.pool_shape(needed, longest, max_new, n)
    gen = next_pow2(max_new, 16)
    assert pool_shape(needed, n, max_rows, 1, want.prompt_slots, gen) == (want.rows, want.prefill_rows)
    assert want.gen_slots == gen


def test_multi_host_workload_follows_the_trainer():
    c = base.get_config()
    c.model.path = "Qwen/Qwen3-1.7B"
    one, wl1 = plan_for_config(c, 8, processes=1)
    two, wl2 = plan_for_config(c, 8, processes=2)
    # micro_batch_size counts rows per process; each host owns tasks_per_step / 2 trees and generates
    # them on its 4 local devices (tensor first, then fsdp up to its global size).
    assert wl2.micro_batch == 2 * wl1.micro_batch
    assert wl2.gen_mesh == MeshSizes(1, 4, 1) and wl1.gen_mesh == MeshSizes(1, 8, 1)
    assert resolve_mesh(1, 2, 4, 8) and workload_from_config(c, MeshSizes(1, 2, 4), 2).gen_mesh == MeshSizes(1, 1, 4)
    names = [i.name for i in two.phase("generate: prefill").items]
    assert "host-local parameter copy" in names and "host-local parameter copy" not in [
        i.name for i in one.phase("generate: prefill").items]
    local = _item(two, "generate: prefill", "host-local parameter copy")
    assert local == pytest.approx(2 * _item(one, "generate: prefill", "parameters"), rel=1e-3)  # norms replicate


def test_resolve_mesh_like_make_mesh():
    assert resolve_mesh(1, -1, 2, 8) == MeshSizes(1, 4, 2)
    assert resolve_mesh(2, 2, 2, 8) == MeshSizes(2, 2, 2)
    with pytest.raises(ValueError, match="needs 4 devices"):
        resolve_mesh(2, 2, 1, 8)
    with pytest.raises(ValueError, match="not divisible"):
        resolve_mesh(3, -1, 1, 8)


def _smol(**kw):
    return ModelConfig.from_hf(KNOWN_MODELS["smollm2"], dtype=jnp.float32, param_dtype=jnp.float32, **kw)


def test_kv_cache_bytes_by_hand():
    cfg, prog = _smol(), GenProgram(1, 16, 4, 256, 64)
    per_row = 2 * 30 * 320 * 3 * 64 * 4 + 320 * 4  # k and v over all layers, plus slot positions
    assert kv_cache_bytes(cfg, MeshSizes(1, 1, 1), prog) == 16 * per_row
    assert kv_cache_bytes(cfg, MeshSizes(1, 8, 1), prog) == 2 * per_row  # 16 rows over 8 batch ways
    # 3 kv heads do not split over tensor=2: the cache is replicated across it, only rows split.
    assert kv_cache_bytes(cfg, MeshSizes(1, 4, 2), prog) == 4 * per_row


def _wl(mb=2, t=256, chunk=0, reference="none"):
    return Workload(mb, t, 2, chunk, reference, (GenProgram(1, 16, 4, 256, 64, 4),))


def _item(p, phase, name):
    return next(i.bytes for i in p.phase(phase).items if i.name == name)


def test_activation_terms_scale_as_the_model_says():
    mesh = MeshSizes(1, 1, 1)
    p1, p2 = plan(_smol(), mesh, _wl(mb=1)), plan(_smol(), mesh, _wl(mb=2))
    saved1 = _item(p1, "train: micro-batch", "saved activations")
    assert _item(p2, "train: micro-batch", "saved activations") == pytest.approx(2 * saved1, rel=1e-3)
    full = plan(_smol(remat="full"), mesh, _wl(mb=1))
    assert _item(full, "train: micro-batch", "saved activations") < saved1 / 20
    # Parameters, moments and gradients do not depend on the batch.
    for name in ("parameters", "optimizer state", "gradient accumulator"):
        assert _item(p1, "train: micro-batch", name) == _item(p2, "train: micro-batch", name)
    # Chunked log-probs: only [mb, chunk, V] logits are alive, so the attention working set takes over.
    whole = plan(_smol(remat="full"), mesh, _wl(mb=4, t=1024))
    chunked = plan(_smol(remat="full"), mesh, _wl(mb=4, t=1024, chunk=128))
    logits = _item(whole, "train: micro-batch", "logits working set")
    assert "layer backward working set" in [i.name for i in chunked.phase("train: micro-batch").items]
    assert chunked.phase("train: micro-batch").total < whole.phase("train: micro-batch").total - logits / 2
    # FSDP over 8 devices divides the resident state by 8 (every matrix has a hidden dim of 576 = 8 x 72).
    sharded = plan(_smol(), MeshSizes(1, 8, 1), _wl(mb=8))
    assert _item(sharded, "train: micro-batch", "optimizer state") * 8 == \
        pytest.approx(_item(p1, "train: micro-batch", "optimizer state"), rel=3e-3)  # norms stay replicated


def test_reference_model_only_with_beta():
    c = tiny.get_config()
    p0, _ = plan_for_config(c, 1)
    assert "reference log-probs" not in [ph.name for ph in p0.phases]
    c.rl.loss.beta = 0.05
    p1, wl = plan_for_config(c, 1)
    assert wl.reference == "device"
    params = _item(p1, "train: micro-batch", "parameters")
    assert _item(p1, "train: micro-batch", "reference parameters") == params
    assert p1.phase("reference log-probs").total > 0
    c.train.reference_on_host = True
    p2, _ = plan_for_config(c, 1)
    assert "reference parameters" not in [i.name for i in p2.phase("train: micro-batch").items]
    assert _item(p2, "reference log-probs", "reference parameters") == params


def test_verdict_and_advice():
    c = base.get_config()
    c.model.path = "Qwen/Qwen3-4B"
    p, _ = plan_for_config(c, 8, device_memory=parse_bytes("16GiB"))
    assert not p.fits and p.peak_phase.name == "train: micro-batch"
    assert any("model.remat=full" in a for a in advice(p))
    c.model.remat, c.train.logits_chunk, c.rl.batch.micro_batch_size = "full", 256, 8
    big, _ = plan_for_config(c, 8, device_memory=parse_bytes("95GiB"))
    assert big.fits and big.peak < p.peak


def test_parse_bytes():
    assert parse_bytes("16GiB") == 16 * 2**30
    assert parse_bytes("80GB") == 80 * 10**9
    assert parse_bytes("512 MiB") == 512 * 2**20
    assert parse_bytes("1e9") == 10**9
    with pytest.raises(ValueError, match="cannot read"):
        parse_bytes("16 gigs")


def test_plan_numbers_are_plain_ints():
    p, _ = plan_for_config(tiny.get_config(), 1)
    assert all(isinstance(i.bytes, (int, np.integer)) and i.bytes >= 0 for ph in p.phases for i in ph.items)
