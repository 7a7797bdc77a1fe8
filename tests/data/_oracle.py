"""Stand-in runner for loader tests: runs a program against a task's assert tests.

It follows the CodeTask contract for ``assert`` tests as the executor implements
it (each test in a fresh namespace holding the program's globals, then
``test_setup``, then ``candidate`` bound to ``entry_point``, then the test code;
the program's own functions keep seeing only the program's globals) so loader tests can prove that reference
solutions pass and wrong programs fail before the executor exists. It runs
only trusted programs written by the tests or shipped by the datasets.

stdin: JSON lines ``{"task": <CodeTask dict>, "program": str}``;
stdout: one JSON line per input: ``{"task_id", "failed": [[split, name, error], ...]}``.
"""
import contextlib
import io
import json
import signal
import sys


def _timeout(*_):
    raise TimeoutError("test took too long")


def run(task, program):
    failed = []
    for split in ("public_tests", "private_tests"):
        for tc in task.get(split, []):
            cand = {"__name__": "__main__"}
            signal.alarm(20)
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(program, "<program>", "exec"), cand)
                    # Like the executor: the setup sees the program's names, the program never sees the setup.
                    ns = dict(cand)
                    exec(compile(task.get("test_setup", ""), "<setup>", "exec"), ns)
                    if task.get("entry_point"):
                        ns["candidate"] = cand[task["entry_point"]]
                    exec(compile(tc["code"], "<test>", "exec"), ns)
            except BaseException as e:  # noqa: BLE001 - any failure of the test counts
                failed.append([split, tc.get("name", ""), f"{type(e).__name__}: {str(e)[:200]}"])
            finally:
                signal.alarm(0)
    return failed


def main():
    signal.signal(signal.SIGALRM, _timeout)
    for line in sys.stdin:
        item = json.loads(line)
        task = item["task"]
        print(json.dumps({"task_id": task["task_id"], "failed": run(task, item["program"])}), flush=True)


if __name__ == "__main__":
    main()
