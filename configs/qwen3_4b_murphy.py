"""MURPHY on Qwen3-4B with KodCode: the 1.7B recipe with a smaller learning rate and more tensor parallelism."""
from configs import meshes, qwen3_1p7b_murphy


def get_config(hardware: str = ""):
    """The config; ``hardware`` (e.g. v5e-8) sets the mesh from configs/meshes.py."""
    c = qwen3_1p7b_murphy.get_config()
    c.model.path = "Qwen/Qwen3-4B"
    c.optim.lr = 5e-7
    c.rl.batch.micro_batch_size = 8
    c.sampling.max_rows = 128
    return meshes.apply(c, "qwen3_4b", hardware)
