"""Run candidate solutions against bundled-task tests, as a plain Python script.

    python -I bundled_harness.py TASKS.jsonl [...] [--sources SOURCES.json] > results.json

Deliberately independent of murphy_jax (standard library only) so that the
tests check the committed files with code that shares nothing with the
builder. Without --sources every task runs its ``reference_solution`` and the
output is {task_id: [passed?, ...]}, one flag per test (public first). With
--sources, SOURCES.json is a list of [task_id, source] pairs and the output is
the list of flag lists in the same order. A test fails on a wrong value, an
exception, or taking over 5 seconds.
"""
import json
import signal
import sys

TIME_LIMIT_S = 5.0


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def same_value(a, b):
    """JSON-style equality: bool, int and float are different types; lists and dicts compared deeply."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


def run_test(fn, test):
    """True when fn passes one test dict of kind call or assert."""
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    try:
        if test["kind"] == "call":
            return same_value(fn(*test["args"]), test.get("expected"))
        if test["kind"] == "assert":
            exec(test["code"], {"candidate": fn})
            return True
        raise ValueError(f"unexpected test kind {test['kind']!r}")
    except Exception:  # any failure of the candidate is a failed test
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_task(task, source):
    """Per-test pass flags for one task; all False when the source does not even load."""
    tests = task["public_tests"] + task["private_tests"]
    ns = {"__name__": "candidate"}
    try:
        exec(compile(source, "<candidate>", "exec"), ns)
        fn = ns[task["entry_point"]]
    except Exception:
        return [False] * len(tests)
    return [run_test(fn, t) for t in tests]


def main(argv):
    sources = None
    if "--sources" in argv:
        i = argv.index("--sources")
        with open(argv[i + 1], encoding="utf-8") as f:
            sources = json.load(f)
        argv = argv[:i] + argv[i + 2:]
    signal.signal(signal.SIGALRM, _alarm)
    tasks = {}
    for path in argv:
        with open(path, encoding="utf-8") as f:
            for line in f:
                task = json.loads(line)
                tasks[task["task_id"]] = task
    if sources is None:
        out = {tid: run_task(t, t["reference_solution"]) for tid, t in tasks.items()}
    else:
        out = [run_task(tasks[tid], src) for tid, src in sources]
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
