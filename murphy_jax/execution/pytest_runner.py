"""``pytest`` tests: the task's test module, run by real pytest inside the judge, against the candidate's proxies.

The module imports the candidate as ``solution`` (a proxy module) or uses its names directly
(they are made visible as builtins, so anything the test module defines itself wins). The
run is pinned down so nothing the candidate can write is ever read: no conftest.py, no ini
file discovery beyond the judge's own empty one, no cache, no third-party plugins.
"""
from __future__ import annotations

import builtins
import os
import sys
import types

import pytest

from .candidate import Fault, InfraFault

TEST_FILE = "test_solution.py"


class SolutionModule(types.ModuleType):
    """``import solution`` inside the test module: attribute reads go to the candidate's globals."""

    def __init__(self, sess):
        super().__init__("solution")
        self.__dict__["_murphy_session"] = sess
        self.__dict__.update({k: v for k, v in sess.globals.items() if not k.startswith("_")})

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self.__dict__["_murphy_session"].global_value(name)


def _function_name(item) -> str:
    return getattr(item, "originalname", None) or item.name.partition("[")[0]


class _Collector:
    """Pytest plugin: budgets each test item and records one verdict per test function."""

    def __init__(self, judge, sess, wanted, on_done):
        self.judge = judge
        self.sess = sess
        self.wanted = set(wanted)
        self.on_done = on_done  # called with (name, verdict) as soon as a test function's last item ran
        self.results: dict[str, dict] = {}
        self.collect_error = None

    def pytest_collection_modifyitems(self, session, config, items):
        """Keep only the test functions the task names."""
        keep = [it for it in items if _function_name(it) in self.wanted]
        dropped = [it for it in items if _function_name(it) not in self.wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    def pytest_collectreport(self, report):
        """Record collection failures (of one item, or of the whole module)."""
        if report.failed and report.nodeid.partition("::")[2]:  # one item failed to collect: only it fails
            name = report.nodeid.partition("::")[2].partition("[")[0]
            self.results[name] = {"status": "failed", "message": f"could not be collected: {_last_line(report.longrepr)}"}
        elif report.failed and self.collect_error is None:
            fault = self.sess.end()
            if fault is not None:
                self.collect_error = (fault.status, f"while importing the tests: {fault.message}")
            else:
                self.collect_error = ("failed", f"the test module failed to import: {_last_line(report.longrepr)}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        """After a test function's last item, hand its verdict on."""
        yield
        name = _function_name(item)
        if (nextitem is None or _function_name(nextitem) != name) and name in self.results:
            self.on_done(name, self.results[name])

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        """Give each item a fresh budget (cut down to what is left of the program's)."""
        budget = self.judge.budget()
        if budget is None:
            self.sess.begin(0.0, 0.0)
            self.sess.fault = Fault("timeout", "the program's total time budget was used up by earlier tests")
        else:
            self.sess.begin(budget.cpu_s, budget.wall_s)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        """Turn each phase's outcome (and any fault of the candidate) into the function's verdict."""
        outcome = yield
        report = outcome.get_result()
        fault = self.sess.fault
        failed = report.failed or report.skipped or fault is not None
        if call.when == "teardown":
            self.sess.end()
            self.judge.cpu_spent += self.sess.cpu_used() or 0.0
        if not failed:
            self.results.setdefault(_function_name(item), {"status": "passed", "message": ""})
            return
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, InfraFault):
            raise exc
        if report.skipped and fault is None:
            status, message, extra = "failed", f"skipped ({_last_line(report.longrepr)}); a skipped test " \
                                               "does not count as passed", {}
        elif exc is not None or fault is not None:
            status, message, extra = self.judge.classify(exc, fault)
            if status == "failed" and exc is not None and not extra:
                message = _last_line(report.longrepr) or message
        else:
            status, message, extra = "failed", _last_line(report.longrepr), {}
        if fault is not None and report.passed:
            report.outcome = "failed"
        current = self.results.get(_function_name(item))
        if current is None or current["status"] == "passed":
            self.results[_function_name(item)] = {"status": status, "message": f"[{call.when}] {message}"
                                                  if call.when != "call" else message, **extra}


def run_pytest(judge, sess, on_done) -> dict[str, dict]:
    """Run the task's pytest tests once; ``on_done(name, verdict)`` streams each test function's verdict.

    Returns name -> verdict fields for every pytest test (including ones pytest never ran).
    """
    task = judge.task
    wanted = [t.name for t in task.all_tests if t.kind == "pytest"]
    path = os.path.join(judge.workdir, TEST_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(task.test_module)
    sys.modules["solution"] = SolutionModule(sess)
    for name, value in sess.globals.items():
        if not name.startswith("_") and not hasattr(builtins, name):
            setattr(builtins, name, value)
    budget = judge.budget()
    sess.begin(budget.cpu_s if budget else 0.0, budget.wall_s if budget else 0.0)  # covers module import
    plugin = _Collector(judge, sess, wanted, on_done)
    args = [path, "-q", "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "no:pastebin", "--noconftest",
            "--capture=sys", "--tb=short", "--color=no", "--rootdir", judge.workdir,
            "--basetemp", os.path.join(os.getcwd(), "pytest-tmp"),
            "-c", os.path.join(judge.workdir, "pytest.ini"), "-o", "python_files=test_*.py",
            "-o", "python_functions=" + " ".join(["test_*"] + wanted), "--continue-on-collection-errors",
            "-W", "ignore::DeprecationWarning"]
    pytest.main(args, plugins=[plugin])
    results = {}
    for name in wanted:
        if name in plugin.results:
            results[name] = plugin.results[name]
        elif plugin.collect_error is not None:
            results[name] = {"status": plugin.collect_error[0], "message": plugin.collect_error[1]}
        else:
            results[name] = {"status": "failed", "message": f"test function {name!r} was not found or not run"}
    return results


def _last_line(longrepr) -> str:
    text = str(longrepr or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    errors = [line for line in lines if line.startswith("E ")]
    return (" ".join(e[1:].strip() for e in errors[:3]) if errors else lines[-1])[:1000]
