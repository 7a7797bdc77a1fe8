"""MURPHY on Qwen3-4B with KodCode: the 1.7B recipe with a smaller learning rate and more tensor parallelism."""
from configs import qwen3_1p7b_murphy


def get_config():
    c = qwen3_1p7b_murphy.get_config()
    c.model.path = "Qwen/Qwen3-4B"
    c.optim.lr = 5e-7
    c.rl.batch.micro_batch_size = 8
    c.sampling.max_rows = 128
    return c
