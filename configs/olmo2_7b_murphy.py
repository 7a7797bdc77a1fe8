"""MURPHY on OLMo-2-7B-Instruct with KodCode: FSDP + tensor parallelism, rematerialisation, chunked log-probs."""
from configs import meshes, qwen3_1p7b_murphy


def get_config(hardware: str = ""):
    """The config; ``hardware`` (e.g. v5e-8) sets the mesh from configs/meshes.py."""
    c = qwen3_1p7b_murphy.get_config()
    c.model.path = "allenai/OLMo-2-1124-7B-Instruct"
    c.mesh.tensor = 4
    c.optim.lr = 5e-7
    c.rl.batch.micro_batch_size = 8
    c.sampling.max_rows = 128
    c.train.logits_chunk = 256
    return meshes.apply(c, "olmo2_7b", hardware)
