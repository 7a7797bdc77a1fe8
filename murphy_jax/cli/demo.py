"""``python3 run.py demo``: the one-command MURPHY run on CPU (not yet available)."""
import sys


def run() -> int:
    print("murphy_jax demo: not yet available (lands with the 'main job' issue).")
    return 0


if __name__ == "__main__":
    sys.exit(run())
