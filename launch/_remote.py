"""Shell snippets that launch/tpu.py runs on each TPU VM through `gcloud ... ssh --command`.

Each builder returns one line of bash (the login shell of a gcloud-created user on the
TPU VM images). Remote paths relative to the home directory are written as
"$HOME"/path so that they survive a `cd`.
"""
from __future__ import annotations

import re
import shlex

DEFAULT_JAX_VERSION = "0.10.2"
LIBTPU_FIND_LINKS = "https://storage.googleapis.com/jax-releases/libtpu_releases.html"
# Python that run.py accepts (3.11+); the TPU VM base images ship an older python3.
DEFAULT_PYTHON = "python3.11"
REMOTE_TARBALL = "murphy_jax.tar.gz"
REMOTE_ENV_FILE = ".murphy_run.env"

# Runtime ("software") versions that Google's Cloud TPU docs list for JAX, by family.
RUNTIME_BY_FAMILY = (
    ("v6e", "v2-alpha-tpuv6e"),
    ("v5litepod", "v2-alpha-tpuv5-lite"),
    ("v5p", "v2-alpha-tpuv5"),
    ("v4", "tpu-ubuntu2204-base"),
)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _join(steps: list[str]) -> str:
    # `cmd &` already ends a statement; `&;` would be a bash syntax error.
    return "".join(s + (" " if s.endswith("&") else "; ") for s in steps[:-1]) + steps[-1]


def default_runtime(accelerator_type: str) -> str | None:
    for family, runtime in RUNTIME_BY_FAMILY:
        if accelerator_type.startswith(family + "-"):
            return runtime
    return None


def rpath(path: str) -> str:
    """A remote path as a shell word: relative paths are anchored at $HOME."""
    if path.startswith("/"):
        return shlex.quote(path)
    return '"$HOME"/' + shlex.quote(path)


def log_path(log_dir: str, worker: int) -> str:
    return rpath(f"{log_dir}/train-worker{worker}.log")


def pid_path(log_dir: str, worker: int) -> str:
    return rpath(f"{log_dir}/train-worker{worker}.pid")


def _python_bootstrap(python: str) -> list[str]:
    # Install the interpreter from apt only when it (with venv/ensurepip) is missing;
    # the lock timeout waits out the unattended-upgrades run of a freshly booted VM.
    q = shlex.quote(python)
    steps = [f"if ! {q} -c 'import ensurepip, venv' >/dev/null 2>&1"]
    if re.fullmatch(r"python3\.\d+", python):
        apt = "sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600"
        steps[0] += f"; then {apt} update -qq && {apt} install -y -qq {q} {q}-venv; fi"
    else:
        steps[0] += f"; then echo {shlex.quote(python + ' with venv is not available')} >&2; exit 1; fi"
    return steps


def install_script(repo_dir: str, python: str, jax_version: str, find_links: str,
                   repo_url: str | None = None, ref: str = "HEAD") -> str:
    d = rpath(repo_dir)
    if repo_url:
        fetch = [
            f"if [ ! -d {d}/.git ]; then git clone {shlex.quote(repo_url)} {d}; fi",
            f"git -C {d} fetch origin {shlex.quote(ref)}",
            f"git -C {d} checkout --force FETCH_HEAD",
        ]
    else:
        # Extract over the old tree instead of wiping it: it keeps .venv (fast reinstall)
        # and never deletes a run directory someone kept inside the checkout.
        tarball = rpath(REMOTE_TARBALL)
        fetch = [f"mkdir -p {d}", f"tar -xzf {tarball} -C {d}", f"rm -f {tarball}"]
    steps = ["set -e", *fetch, *_python_bootstrap(python), f"cd {d}",
             f"{shlex.quote(python)} run.py env",
             ".venv/bin/pip install --disable-pip-version-check -q "
             + shlex.quote(f"jax[tpu]=={jax_version}") + f" -f {shlex.quote(find_links)}",
             ".venv/bin/python -c " + shlex.quote(
                 'import jax, murphy_jax; print("murphy_jax installed; jax", jax.__version__)')]
    return _join(steps)


def _alive(pidfile: str) -> str:
    # The trainer is started with setsid, so its pid is also its process-group id;
    # probing the group also catches executor children that outlived the leader.
    # Braced so that `if ! ...` negates the whole test, not just its first half.
    return f'{{ [ -f {pidfile} ] && kill -0 -- "-$(cat {pidfile})" 2>/dev/null; }}'


def run_script(worker: int, repo_dir: str, log_dir: str, train_argv: list[str],
               with_env_file: bool) -> str:
    log, pid = log_path(log_dir, worker), pid_path(log_dir, worker)
    steps = ["set -e", f"mkdir -p {rpath(log_dir)}",
             f'if {_alive(pid)}; then echo "murphy-train is already running '
             f'(pid $(cat {pid})); run stop first" >&2; exit 3; fi']
    if with_env_file:
        env = rpath(REMOTE_ENV_FILE)
        # Source and delete at once: secrets do not stay on the worker's disk.
        steps += ["set -a", f". {env}", "set +a", f"rm -f {env}"]
    steps += [f"cd {rpath(repo_dir)}", "export PYTHONUNBUFFERED=1",
              f'echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) worker {worker}: start" >> {log}',
              # nohup + setsid + all three fds redirected: the run survives the ssh
              # session ending and gets its own process group for `stop`.
              "nohup setsid " + " ".join(shlex.quote(a) for a in train_argv)
              + f" >> {log} 2>&1 < /dev/null &",
              f"echo $! > {pid}",
              f'echo "murphy-train started (pid $!), log: {log_dir}/train-worker{worker}.log"']
    return _join(steps)


def stop_script(worker: int, log_dir: str, signal: str, wait: int) -> str:
    pid = pid_path(log_dir, worker)
    sig = shlex.quote(signal)
    steps = [f'if ! {_alive(pid)}; then echo "murphy-train is not running"; exit 0; fi',
             f"P=$(cat {pid})", f'kill -s {sig} -- "-$P"',
             f'echo "sent SIG{signal} to murphy-train (process group $P)"']
    if wait > 0:
        steps += [f"i=0; while kill -0 -- \"-$P\" 2>/dev/null && [ $i -lt {int(wait)} ]; "
                  "do sleep 1; i=$((i+1)); done",
                  f'if kill -0 -- "-$P" 2>/dev/null; then '
                  f'echo "still running after {int(wait)}s" >&2; exit 4; fi',
                  'echo "murphy-train exited"']
    return _join(steps)


def status_script(worker: int, log_dir: str) -> str:
    pid, log = pid_path(log_dir, worker), log_path(log_dir, worker)
    return _join([
        f'if {_alive(pid)}; then echo "murphy-train: running (pid $(cat {pid}))"; '
        f'else echo "murphy-train: not running"; fi',
        f'if [ -f {log} ]; then echo "last log line: $(tail -n 1 {log})"; fi',
    ])


def logs_script(worker: int, log_dir: str, lines: int, follow: bool) -> str:
    return f"tail -n {int(lines)}{' -F' if follow else ''} {log_path(log_dir, worker)}"


def env_file_text(names_or_pairs: list[str], environ) -> str:
    """Body of the env file shipped for `run --env`: NAME=VALUE lines, shell-quoted."""
    lines = []
    for item in names_or_pairs:
        name, sep, value = item.partition("=")
        if not _ENV_NAME.match(name):
            raise ValueError(f"--env {item!r}: not a valid environment variable name")
        if not sep:
            if name not in environ:
                raise ValueError(f"--env {name}: not set in the local environment")
            value = environ[name]
        lines.append(f"{name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"
