#!/usr/bin/env python3
"""Create a Cloud TPU VM or pod slice, install murphy_jax on every worker, run
`murphy-train` on all of them, follow the logs, and delete the slice.

    python3 launch/tpu.py create  --name N --zone Z --accelerator-type v5litepod-16 [--spot] [--queued]
    python3 launch/tpu.py install --name N --zone Z [--repo-url URL] [--ref REF]
    python3 launch/tpu.py run     --name N --zone Z --config configs/X.py --workdir gs://B/run1 \
                                  [--env HF_TOKEN] -- --config.rl.turns=3
    python3 launch/tpu.py logs    --name N --zone Z [--worker all] [--follow]
    python3 launch/tpu.py status  --name N --zone Z
    python3 launch/tpu.py stop    --name N --zone Z
    python3 launch/tpu.py delete  --name N --zone Z [--queued] [--yes]

--name/--zone/--project default to $MURPHY_TPU_NAME/$MURPHY_TPU_ZONE/$MURPHY_TPU_PROJECT.
Every gcloud command is printed before it runs; --dry-run prints them and runs nothing.
Standard library only. See launch/README.md for the recipe.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _gcloud import Gcloud, LaunchError, queued_state, worker_count  # noqa: E402
import _remote as remote  # noqa: E402

PROG = "tpu.py"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSTHROUGH = {"create", "run"}  # subcommands that accept arguments after `--`


# ---- argument parsing ------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line instead of argparse's usage dump; -h has the rest.
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} -h)\n")
        sys.exit(2)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", default=os.environ.get("MURPHY_TPU_NAME"),
                   help="TPU VM / slice name (also the queued-resource id); default $MURPHY_TPU_NAME")
    p.add_argument("--zone", default=os.environ.get("MURPHY_TPU_ZONE"),
                   help="zone of the TPU, e.g. us-east5-b; default $MURPHY_TPU_ZONE")
    p.add_argument("--project", default=os.environ.get("MURPHY_TPU_PROJECT") or None,
                   help="GCP project (optional; gcloud's default otherwise); default $MURPHY_TPU_PROJECT")
    p.add_argument("--dry-run", action="store_true",
                   help="print the commands that would run and run none of them")


def _fan_out_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--num-workers", type=int, default=None,
                   help="number of TPU VMs; required with --dry-run, otherwise read from `describe`")
    p.add_argument("--max-parallel", type=int, default=64,
                   help="at most this many per-worker gcloud commands at once")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", metavar="{create,install,run,logs,status,stop,delete}")
    sub.required = True

    p = sub.add_parser("create", help="create a TPU VM / pod slice (directly or as a queued resource)")
    _common(p)
    p.add_argument("--accelerator-type", required=True,
                   help="e.g. v4-8, v5litepod-16, v5p-32, v6e-8 (see launch/README.md)")
    p.add_argument("--runtime-version", default=None,
                   help="TPU software version; default from the accelerator family (README table)")
    p.add_argument("--spot", action="store_true", help="request Spot capacity (cheaper, preemptible)")
    p.add_argument("--preemptible", action="store_true",
                   help="request legacy preemptible capacity (direct create only)")
    p.add_argument("--reserved", action="store_true", help="use reserved capacity (needs a reservation)")
    p.add_argument("--queued", action="store_true",
                   help="create through `queued-resources create` and wait until it is ACTIVE")
    p.add_argument("--valid-until-duration", default=None,
                   help="queued only: give up on the request after this long, e.g. 6h")
    p.add_argument("--no-wait", action="store_true", help="queued only: return right after the request")
    p.add_argument("--wait-timeout", type=float, default=7200,
                   help="queued only: seconds to wait for ACTIVE before exiting non-zero")
    p.add_argument("--poll-interval", type=float, default=30,
                   help="queued only: seconds between `describe` polls")

    p = sub.add_parser("install", help="ship the repo to every worker and build its venv with jax[tpu]")
    _common(p)
    _fan_out_flags(p)
    p.add_argument("--worker", default="all", help="'all' or a comma list of worker ids")
    p.add_argument("--repo-url", default=None,
                   help="git clone this URL on the workers instead of copying a local `git archive`")
    p.add_argument("--ref", default="HEAD", help="git ref to ship (local archive) or fetch (--repo-url)")
    p.add_argument("--source", default=REPO_ROOT,
                   help="local git checkout to archive; default the repo this script is in")
    p.add_argument("--repo-dir", default="murphy_jax",
                   help="checkout location on the workers (relative paths are under $HOME)")
    p.add_argument("--python", default=remote.DEFAULT_PYTHON,
                   help="python (3.11+) used to run run.py on the workers; apt-installed if missing")
    p.add_argument("--jax-version", default=remote.DEFAULT_JAX_VERSION,
                   help="version of jax[tpu] installed on top of the pinned venv")
    p.add_argument("--libtpu-find-links", default=remote.LIBTPU_FIND_LINKS,
                   help="pip -f index holding the libtpu wheels")

    p = sub.add_parser("run", help="start murphy-train detached on all workers (overrides after --)")
    _common(p)
    _fan_out_flags(p)
    p.add_argument("--config", required=True,
                   help="config file for murphy-train, e.g. configs/qwen3.py[:ARG]")
    p.add_argument("--workdir", required=True,
                   help="run directory every worker sees: gs://bucket/run or a shared filesystem path")
    p.add_argument("--env", action="append", default=[], metavar="NAME[=VALUE]",
                   help="pass this env var (value from the local environment unless given); repeatable")
    p.add_argument("--repo-dir", default="murphy_jax", help="checkout location on the workers")
    p.add_argument("--log-dir", default="murphy_logs", help="log and pid directory on the workers")

    p = sub.add_parser("logs", help="tail the training log of one worker or all")
    _common(p)
    _fan_out_flags(p)
    p.add_argument("--worker", default="0", help="worker id, a comma list, or 'all'")
    p.add_argument("--lines", "-n", type=int, default=100, help="lines of history to show")
    p.add_argument("--follow", "-f", action="store_true", help="keep following the log (Ctrl-C stops)")
    p.add_argument("--log-dir", default="murphy_logs", help="log and pid directory on the workers")

    p = sub.add_parser("status", help="TPU state and whether murphy-train is alive on each worker")
    _common(p)
    _fan_out_flags(p)
    p.add_argument("--worker", default="all", help="'all' or a comma list of worker ids")
    p.add_argument("--queued", action="store_true", help="also show the queued resource's state")
    p.add_argument("--log-dir", default="murphy_logs", help="log and pid directory on the workers")

    p = sub.add_parser("stop", help="signal the training process group on every worker")
    _common(p)
    _fan_out_flags(p)
    p.add_argument("--worker", default="all", help="'all' or a comma list of worker ids")
    # Not INT/HUP: a background job of a non-interactive shell ignores SIGINT, and
    # nohup ignores SIGHUP, so the trainer would never see them.
    p.add_argument("--signal", default="TERM", choices=["TERM", "KILL"],
                   help="TERM lets the trainer write a final checkpoint; KILL does not")
    p.add_argument("--wait", type=int, default=0,
                   help="seconds to wait for the process to exit (non-zero exit if it does not)")
    p.add_argument("--log-dir", default="murphy_logs", help="log and pid directory on the workers")

    p = sub.add_parser("delete", help="delete the slice (or the queued resource and its nodes)")
    _common(p)
    p.add_argument("--queued", action="store_true",
                   help="delete the queued resource with --force (also deletes its TPU VMs)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    return parser


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


# ---- helpers ---------------------------------------------------------------------------

def _workers(g: Gcloud, args, spec: str, *, need_ready: bool = True) -> list[int]:
    """Worker ids selected by `spec`, with the slice size from --num-workers or describe."""
    n = args.num_workers
    if n is None:
        if g.dry_run:
            raise LaunchError("--dry-run cannot ask gcloud for the worker count; pass --num-workers N",
                              code=2)
        node = g.describe_json()
        state = node.get("state", "UNKNOWN")
        if need_ready and state != "READY":
            raise LaunchError(f"TPU {g.name} is {state}, not READY (see `{PROG} status`)")
        n = worker_count(node)
    if n < 1:
        raise LaunchError("--num-workers must be at least 1", code=2)
    if spec == "all":
        return list(range(n))
    try:
        ids = sorted({int(x) for x in spec.split(",") if x.strip()})
    except ValueError:
        raise LaunchError(f"--worker {spec!r}: expected 'all' or comma-separated integers", code=2)
    bad = [w for w in ids if not 0 <= w < n]
    if bad or not ids:
        raise LaunchError(f"--worker {spec!r}: the slice has workers 0..{n - 1}", code=2)
    return ids


def _ssh_fan_out(g: Gcloud, jobs: dict, what: str, prefix: bool = True) -> None:
    if len(jobs) > 1 and not g.dry_run:
        g.ensure_ssh_key()
    g.fan_out(jobs, what, prefix=prefix)


# ---- subcommands -----------------------------------------------------------------------

def cmd_create(g: Gcloud, args, extra: list[str]) -> int:
    runtime = args.runtime_version or remote.default_runtime(args.accelerator_type)
    if not runtime:
        raise LaunchError(f"no default runtime version for {args.accelerator_type!r}; "
                          "pass --runtime-version", code=2)
    if args.spot and args.preemptible:
        raise LaunchError("--spot and --preemptible are exclusive", code=2)
    capacity = (["--spot"] if args.spot else []) + (["--preemptible"] if args.preemptible else []) \
        + (["--reserved"] if args.reserved else [])
    if not args.queued:
        if args.valid_until_duration:
            raise LaunchError("--valid-until-duration needs --queued", code=2)
        g.run(g.tpu_vm("create", f"--accelerator-type={args.accelerator_type}",
                       f"--version={runtime}", *capacity, *extra))
        g.say(f"created {g.name}; next: {PROG} install --name {g.name} --zone {g.zone}")
        return 0

    if args.preemptible:
        raise LaunchError("queued resources take --spot, not --preemptible", code=2)
    until = [f"--valid-until-duration={args.valid_until_duration}"] if args.valid_until_duration else []
    g.run(g.queued("create", f"--node-id={g.name}", f"--accelerator-type={args.accelerator_type}",
                   f"--runtime-version={runtime}", *capacity, *until, *extra))
    if args.no_wait:
        g.say(f"queued {g.name}; check with `{PROG} status --queued`")
        return 0
    if g.dry_run:
        g.show(g.queued("describe", "--format=json"))
        g.say(f"(dry run: would poll every {args.poll_interval:g}s until ACTIVE, "
              f"for at most {args.wait_timeout:g}s)")
        return 0
    return _wait_active(g, args)


def _wait_active(g: Gcloud, args) -> int:
    start = time.monotonic()
    last = None
    while True:
        state = queued_state(g.describe_json(queued=True))
        elapsed = time.monotonic() - start
        if state != last:
            g.say(f"queued resource {g.name}: {state} (after {elapsed:.0f}s)")
            last = state
        if state == "ACTIVE":
            g.say(f"{g.name} is ACTIVE; next: {PROG} install --name {g.name} --zone {g.zone}")
            return 0
        if state in ("FAILED", "SUSPENDED", "SUSPENDING"):
            raise LaunchError(f"queued resource {g.name} is {state}; inspect with "
                              f"`gcloud compute tpus queued-resources describe {g.name} --zone={g.zone}`")
        if elapsed + args.poll_interval > args.wait_timeout:
            raise LaunchError(f"queued resource {g.name} still {state} after {elapsed:.0f}s; the request "
                              f"stays queued (`{PROG} status --queued`, `{PROG} delete --queued`)")
        time.sleep(args.poll_interval)


def cmd_install(g: Gcloud, args, extra: list[str]) -> int:
    workers = _workers(g, args, args.worker)
    script = remote.install_script(args.repo_dir, args.python, args.jax_version,
                                   args.libtpu_find_links, args.repo_url, args.ref)
    if args.repo_url:
        _ssh_fan_out(g, {w: [g.ssh(w, script)] for w in workers}, "install")
        return 0
    with tempfile.TemporaryDirectory(prefix="murphy-launch-") as tmp:
        tarball = os.path.join(tmp, remote.REMOTE_TARBALL)
        _archive(g, args.source, args.ref, tarball)
        jobs = {w: [g.scp(w, tarball, remote.REMOTE_TARBALL), g.ssh(w, script)] for w in workers}
        _ssh_fan_out(g, jobs, "install")
    return 0


def _archive(g: Gcloud, source: str, ref: str, tarball: str) -> None:
    """`git archive` of a committed ref: untracked and ignored files are never shipped."""
    argv = ["git", "-C", source, "archive", "--format=tar.gz", "-o", tarball, ref]
    if g.dry_run:
        g.show(argv)
        return
    try:
        dirty = subprocess.run(["git", "-C", source, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True)
    except OSError:
        raise LaunchError("git not found; install git or use --repo-url", code=2)
    if dirty.returncode != 0:
        raise LaunchError(f"{source} is not a git checkout ({dirty.stderr.strip()}); use --repo-url")
    if dirty.stdout.strip() and ref == "HEAD":
        g.say("warning: uncommitted changes to tracked files are NOT shipped (git archive HEAD)")
    g.run(argv)


def cmd_run(g: Gcloud, args, extra: list[str]) -> int:
    config_file = args.config.split(":", 1)[0]
    if not os.path.exists(os.path.join(REPO_ROOT, config_file)):
        g.say(f"warning: {config_file} does not exist in this checkout ({REPO_ROOT})")
    if not args.workdir.startswith("gs://"):
        g.say("warning: --workdir is not a gs:// path; every worker must see the same directory")
    try:
        env_text = remote.env_file_text(args.env, os.environ) if args.env else None
    except ValueError as e:
        raise LaunchError(str(e), code=2)
    workers = _workers(g, args, "all")
    train = [".venv/bin/murphy-train", "--config", args.config, "--workdir", args.workdir, *extra]
    with tempfile.TemporaryDirectory(prefix="murphy-launch-") as tmp:
        jobs = {}
        env_local = os.path.join(tmp, "run.env")
        if env_text is not None and not g.dry_run:
            fd = os.open(env_local, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(env_text)
        for w in workers:
            cmds = [g.scp(w, env_local, remote.REMOTE_ENV_FILE)] if env_text is not None else []
            cmds.append(g.ssh(w, remote.run_script(w, args.repo_dir, args.log_dir, train,
                                                   env_text is not None)))
            jobs[w] = cmds
        _ssh_fan_out(g, jobs, "run")
    g.say(f"follow with: {PROG} logs --name {g.name} --zone {g.zone} --follow")
    return 0


def cmd_logs(g: Gcloud, args, extra: list[str]) -> int:
    if args.worker != "all" and "," not in args.worker and args.num_workers is None:
        # One worker needs no slice size; skipping describe keeps `logs` fast.
        try:
            workers = [int(args.worker)]
        except ValueError:
            raise LaunchError(f"--worker {args.worker!r}: expected 'all' or comma-separated integers",
                              code=2)
    else:
        workers = _workers(g, args, args.worker)
    jobs = {w: [g.ssh(w, remote.logs_script(w, args.log_dir, args.lines, args.follow))]
            for w in workers}
    _ssh_fan_out(g, jobs, "logs", prefix=len(workers) > 1)
    return 0


def cmd_status(g: Gcloud, args, extra: list[str]) -> int:
    if args.queued:
        if g.dry_run:
            g.show(g.queued("describe", "--format=json"))
        else:
            g.say(f"queued resource {g.name}: {queued_state(g.describe_json(queued=True))}")
    if g.dry_run:
        g.show(g.tpu_vm("describe", "--format=json"))
        n = args.num_workers
    else:
        node = g.describe_json()
        state = node.get("state", "UNKNOWN")
        n = len(node.get("networkEndpoints") or [])
        g.say(f"TPU {g.name}: state={state} health={node.get('health', '-')} "
              f"accelerator={node.get('acceleratorType', '-')} "
              f"runtime={node.get('runtimeVersion', '-')} workers={n}")
        if state != "READY":
            g.say("not READY: skipping the per-worker process check")
            return 0 if state in ("CREATING", "STARTING") else 1
    if n is None:
        raise LaunchError("--dry-run cannot ask gcloud for the worker count; pass --num-workers N", code=2)
    args.num_workers = n
    workers = _workers(g, args, args.worker)
    _ssh_fan_out(g, {w: [g.ssh(w, remote.status_script(w, args.log_dir))] for w in workers}, "status")
    return 0


def cmd_stop(g: Gcloud, args, extra: list[str]) -> int:
    workers = _workers(g, args, args.worker)
    jobs = {w: [g.ssh(w, remote.stop_script(w, args.log_dir, args.signal, args.wait))] for w in workers}
    _ssh_fan_out(g, jobs, "stop")
    return 0


def cmd_delete(g: Gcloud, args, extra: list[str]) -> int:
    what = f"queued resource {g.name} and its TPU VMs" if args.queued else f"TPU {g.name}"
    if not args.yes and not g.dry_run:
        print(f"Delete {what} in {g.zone}? Local disks and anything not in the workdir are lost. [y/N] ",
              end="", flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            g.say("not deleted")
            return 1
    # --quiet: we already asked, and gcloud's own prompt would block a script.
    if args.queued:
        g.run(g.queued("delete", "--force", "--quiet"))
    else:
        g.run(g.tpu_vm("delete", "--quiet"))
    return 0


COMMANDS = {"create": cmd_create, "install": cmd_install, "run": cmd_run, "logs": cmd_logs,
            "status": cmd_status, "stop": cmd_stop, "delete": cmd_delete}


def main(argv: list[str] | None = None) -> int:
    own, extra = split_passthrough(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(own)
    try:
        if extra and args.cmd not in PASSTHROUGH:
            raise LaunchError(f"{args.cmd} takes no arguments after --", code=2)
        if not args.name:
            raise LaunchError("--name is required (or set MURPHY_TPU_NAME)", code=2)
        if not args.zone:
            raise LaunchError("--zone is required (or set MURPHY_TPU_ZONE)", code=2)
        g = Gcloud(args.name, args.zone, args.project, args.dry_run,
                   max_parallel=getattr(args, "max_parallel", 64))
        if args.dry_run:
            g.say("dry run: printing commands, running nothing")
        return COMMANDS[args.cmd](g, args, extra)
    except LaunchError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
