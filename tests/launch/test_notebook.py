"""The Colab notebook runs headlessly on CPU (nbclient) with tiny settings, so it cannot rot."""
import json
import os
import sys

import nbformat
import pytest
from nbclient import NotebookClient

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(REPO, "launch", "murphy_colab.ipynb")


def _kernelspec(root) -> str:
    """A kernel running this interpreter (the venv's), whatever `python` is on PATH."""
    d = root / "kernels" / "murphy-test"
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "murphy-test", "language": "python"}))
    return str(root)


def test_notebook_executes_end_to_end(tiny_sft_policy, tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    workdir = tmp_path / "run"
    params[0].source = f"""MODEL = {tiny_sft_policy!r}
STEPS = 2
TASKS_PER_STEP = 2
EVAL_TASKS = 2
MAX_NEW_TOKENS = 24
WORKDIR = {str(workdir)!r}
REPO_URL = ""
INSTALL_TPU_JAX = False
EXTRA = {{"data.train": "jsonl:{tiny_sft_policy}/tasks.jsonl", "prompts.system": "", "sampling.temperature": 1.5,
         "rollout.group_size": 2, "train.export_hf": False, "executor.workers": 1}}"""
    monkeypatch.delenv("XLA_FLAGS", raising=False)  # one CPU device, as on a laptop
    monkeypatch.setenv("JUPYTER_PATH", _kernelspec(tmp_path))
    monkeypatch.setenv("PYTHONPATH", REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    client = NotebookClient(nb, timeout=1200, kernel_name="murphy-test", resources={"metadata": {"path": REPO}})
    client.execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "finished at step 2" in text
    assert "start [" in text and "trained [" in text  # pass@1 at Iter-1..3 of both models
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the live training plot (redrawn each step) and the final pass@1 plot
    assert (workdir / "checkpoints" / "2").exists() and (workdir / "eval" / "report.json").exists()
