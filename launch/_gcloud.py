"""gcloud plumbing for launch/tpu.py: argv builders, printing, serial and per-worker runs.

Standard library only: this runs on a laptop that has Python and the Google Cloud CLI.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

# gcloud creates this key on the first `tpu-vm ssh`; without it, N parallel first
# calls would each try to generate it and collide.
SSH_KEY = os.path.join("~", ".ssh", "google_compute_engine")


class LaunchError(Exception):
    """A failure the CLI reports as one line and a non-zero exit."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def qjoin(argv) -> str:
    return " ".join(shlex.quote(str(a)) for a in argv)


class Gcloud:
    """Builds and runs the gcloud commands for one TPU slice (or queued resource)."""

    def __init__(self, name: str, zone: str, project: str | None, dry_run: bool,
                 max_parallel: int = 64, out=None):
        self.name, self.zone, self.project = name, zone, project
        self.dry_run = dry_run
        self.max_parallel = max(1, max_parallel)
        self.out = out or sys.stdout
        self._lock = threading.Lock()
        self._procs: list = []
        self.exe = "gcloud"
        if not dry_run:
            found = shutil.which("gcloud")
            if not found:
                raise LaunchError(
                    "gcloud not found on PATH; install the Google Cloud CLI "
                    "(https://cloud.google.com/sdk/docs/install) or use --dry-run", code=2)
            self.exe = found

    # ---- argv builders -------------------------------------------------------------

    def _scope(self) -> list[str]:
        flags = [f"--zone={self.zone}"]
        if self.project:
            flags.append(f"--project={self.project}")
        return flags

    def tpu_vm(self, verb: str, *rest: str) -> list[str]:
        return ["gcloud", "compute", "tpus", "tpu-vm", verb, self.name, *self._scope(), *rest]

    def queued(self, verb: str, *rest: str) -> list[str]:
        return ["gcloud", "compute", "tpus", "queued-resources", verb, self.name,
                *self._scope(), *rest]

    def ssh(self, worker: int, command: str) -> list[str]:
        return self.tpu_vm("ssh", f"--worker={worker}", f"--command={command}")

    def scp(self, worker: int, src: str, dest: str) -> list[str]:
        # scp takes SRC and NAME:DEST positionally, so it cannot reuse tpu_vm().
        return ["gcloud", "compute", "tpus", "tpu-vm", "scp", src, f"{self.name}:{dest}",
                *self._scope(), f"--worker={worker}"]

    # ---- printing and running ------------------------------------------------------

    def say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def show(self, argv) -> None:
        self.say("+ " + qjoin(argv))

    def _real(self, argv) -> list[str]:
        return [self.exe, *argv[1:]] if argv and argv[0] == "gcloud" else list(argv)

    def run(self, argv, capture: bool = False, check: bool = True, stdin=None):
        """Print, then run one command in the foreground. Returns (rc, stdout or None)."""
        self.show(argv)
        if self.dry_run:
            return 0, ("" if capture else None)
        try:
            proc = subprocess.run(self._real(argv), stdin=stdin, text=True,
                                  stdout=subprocess.PIPE if capture else None)
        except OSError as e:
            raise LaunchError(f"could not run {argv[0]}: {e}") from e
        if check and proc.returncode != 0:
            raise LaunchError(f"{argv[0]} exited with status {proc.returncode}: {qjoin(argv[:5])} ...")
        return proc.returncode, proc.stdout

    def describe_json(self, queued: bool = False) -> dict:
        argv = (self.queued if queued else self.tpu_vm)("describe", "--format=json")
        _, text = self.run(argv, capture=True)
        try:
            return json.loads(text)
        except (TypeError, ValueError) as e:
            raise LaunchError(f"could not parse `gcloud ... describe --format=json` output: {e}") from e

    def ensure_ssh_key(self) -> None:
        """One serial ssh to worker 0 when gcloud has no SSH key yet, before any fan-out."""
        if os.path.exists(os.path.expanduser(SSH_KEY)):
            return
        self.say(f"note: {SSH_KEY} does not exist; one ssh to worker 0 first so gcloud "
                 "creates and registers the key before the parallel commands")
        self.run(self.ssh(0, "true"), stdin=None)

    def fan_out(self, jobs: dict, what: str, prefix: bool = True) -> dict:
        """Run each worker's command list (in order, stopping at its first failure),
        workers in parallel; print every line prefixed by worker id; report failures.

        Returns {worker: exit code}. Raises LaunchError naming the failed workers.
        """
        if self.dry_run:
            for w in sorted(jobs):
                for argv in jobs[w]:
                    self.show(argv)
            return {w: 0 for w in jobs}
        with ThreadPoolExecutor(max_workers=min(self.max_parallel, max(1, len(jobs)))) as pool:
            futures = {w: pool.submit(self._worker_job, w, jobs[w], prefix) for w in jobs}
            try:
                codes = {w: f.result() for w, f in futures.items()}
            except KeyboardInterrupt:
                self._terminate_all()
                raise
        failed = sorted(w for w, rc in codes.items() if rc != 0)
        n = len(codes)
        if failed:
            detail = ", ".join(f"worker {w} (exit {codes[w]})" for w in failed)
            raise LaunchError(f"{what}: failed on {len(failed)} of {n} worker(s): {detail}")
        self.say(f"{what}: ok on all {n} worker(s)")
        return codes

    def _worker_job(self, worker: int, cmds, prefix: bool) -> int:
        tag = f"[worker {worker}] " if prefix else ""
        for argv in cmds:
            self.show(argv)
            try:
                proc = subprocess.Popen(self._real(argv), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, errors="replace", bufsize=1)
            except OSError as e:
                self.say(f"{tag}could not start gcloud: {e}")
                return 127
            with self._lock:
                self._procs.append(proc)
            for line in proc.stdout:
                self.say(tag + line.rstrip("\n"))
            rc = proc.wait()
            if rc != 0:
                return rc
        return 0

    def _terminate_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for p in procs:
            if p.poll() is None:
                p.terminate()


def worker_count(node: dict) -> int:
    """Number of TPU VMs (hosts) in a slice, from `tpu-vm describe --format=json`."""
    endpoints = node.get("networkEndpoints") or []
    if not endpoints:
        raise LaunchError("the TPU describe output lists no networkEndpoints (is the slice READY?)")
    return len(endpoints)


def queued_state(qr: dict) -> str:
    """State of a queued resource; the API nests it as {"state": {"state": "ACTIVE", ...}}."""
    state = qr.get("state")
    if isinstance(state, dict):
        return str(state.get("state", "UNKNOWN"))
    return str(state or "UNKNOWN")
