"""The four test kinds, judged through the real sandbox: what passes, what fails, and what feedback says."""
from exec_helpers import task

from murphy_jax.data.task import TestCase

STDIO = dict(io_mode="stdio", entry_point=None)


def call(args, expected):
    return TestCase(kind="call", args=args, expected=expected)


def stdio(stdin, expected):
    return TestCase(kind="stdio", stdin=stdin, expected=expected)


# -- assert --------------------------------------------------------------------------------------------
def test_assert_reports_expected_and_actual(ex):
    r = ex.run("def f(x):\n    print('hello from f')\n    return x * 2\n",
               task("assert f(2) == 4", "assert candidate(3) == 7, 'three'", private=["assert f(5) == 10"]))
    assert [o.status for o in r.outcomes] == ["passed", "failed", "passed"]
    bad = r.outcomes[1]
    assert (bad.expected, bad.actual) == ("7", "6") and "three" in bad.message
    assert [o.public for o in r.outcomes] == [True, True, False]
    assert r.reward() == 2 / 3 and r.reward(tests="private") == 1.0
    assert "hello from f" in r.stdout


def test_candidate_exceptions_carry_type_and_only_candidate_frames(ex):
    r = ex.run("def g(x):\n    return 1 // x\ndef f(x):\n    return g(x)\n", task("assert f(0) == 1"))
    o = r.outcomes[0]
    assert r.status == "runtime_error" and o.exc_type == "ZeroDivisionError"
    assert 'File "solution.py", line 4, in f' in o.traceback and "line 2, in g" in o.traceback
    assert "agent.py" not in o.traceback and "session.py" not in o.traceback


def test_syntax_errors_and_import_time_failures(ex):
    r = ex.run("def f(x)\n    return x\n", task("assert f(1) == 1"))
    assert r.status == "syntax_error" and "line 1" in r.message and r.reward() == 0.0
    r = ex.run("import nonexistent_module_xyz\ndef f(x):\n    return x\n", task("assert f(1) == 1"))
    assert r.status == "runtime_error" and "nonexistent_module_xyz" in r.message
    r = ex.run("def g(x):\n    return x\n", task("assert f(1) == 1", "assert candidate(1) == 1"))
    assert r.status == "failed" and "does not define 'f'" in r.outcomes[1].message


def test_mutated_arguments_are_seen_by_the_test(ex):
    prog = ("def f(xs):\n    xs.sort()\n"
            "def rot(m):\n    m[:] = [list(r) for r in zip(*m[::-1])]\n    return m\n")
    t = task("xs = [3, 1, 2]\nf(xs)\nassert xs == [1, 2, 3]",
             "m = [[1, 2], [3, 4]]\nrow = m[0]\nout = rot(m)\nassert m == [[3, 1], [4, 2]] and out == m")
    r = ex.run(prog, t)
    assert r.passed, [o.message for o in r.outcomes]


def test_objects_generators_classes_and_exceptions_of_the_candidate(ex):
    prog = ("class Counter:\n    def __init__(self):\n        self.n = 0\n    def add(self, k):\n        self.n += k\n"
            "        return self\n    def __len__(self):\n        return self.n\n"
            "class Bad(ValueError):\n    pass\n"
            "def gen(n):\n    yield from range(n)\n"
            "def check(x):\n    if x < 0:\n        raise Bad('negative')\n    return x\n")
    t = task("c = Counter()\nc.add(2).add(3)\nassert c.n == 5 and len(c) == 5",
             "assert list(gen(4)) == [0, 1, 2, 3] and sum(gen(1000)) == 499500",
             "g = gen(3)\nassert next(g) == 0 and next(g) == 1",
             "assert isinstance(Counter(), Counter) and not isinstance(3, Counter)",
             "try:\n    check(-1)\nexcept Bad as e:\n    assert str(e) == 'negative' and isinstance(e, ValueError)\n"
             "else:\n    raise AssertionError('no exception')",
             entry_point="check")
    r = ex.run(prog, t)
    assert r.passed, [(o.name, o.message) for o in r.outcomes]


def test_setup_code_may_build_candidate_objects(ex):
    # As MBPP's tree tasks do: constructors and attribute assignment act on the candidate's objects. (A list
    # *read* from a candidate object is a copy: appending to it would not reach the candidate.)
    prog = "class Node:\n    def __init__(self, v):\n        self.v, self.kids = v, []\ndef size(n):\n    return 1 + sum(size(k) for k in n.kids)\n"
    setup = "root = Node(1)\nleaf = Node(4)\nmid = Node(2)\nmid.kids = [leaf]\nroot.kids = [mid, Node(3)]\n"
    r = ex.run(prog, task("assert size(root) == 4", "assert root.kids[0].kids[0].v == 4", entry_point="size",
                          test_setup=setup))
    assert r.passed, [o.message for o in r.outcomes]


def test_tests_run_in_order_against_one_process_and_a_crash_restarts_it(ex):
    prog = "import os\ncalls = []\ndef f(x):\n    calls.append(x)\n    if x == 'die':\n        os._exit(3)\n    return len(calls)\n"
    t = task("assert f('a') == 1", "assert f('b') == 2", "assert f('die') == 3", "assert f('c') == 1",
             "assert f('d') == 2")
    r = ex.run(prog, t)
    assert [o.status for o in r.outcomes] == ["passed", "passed", "runtime_error", "passed", "passed"]
    assert "exited with code 3" in r.outcomes[2].message


def test_a_timeout_fails_only_its_own_test(ex):
    r = ex.run("def f(x):\n    while x:\n        pass\n    return 0\n", task("assert f(1) == 0", "assert f(0) == 0"))
    assert [o.status for o in r.outcomes] == ["timeout", "passed"]


# -- call ----------------------------------------------------------------------------------------------
def test_call_tests_compare_in_the_judge(ex):
    prog = "def f(a, b):\n    return [a + b, (a, b), a / 3]\n"
    r = ex.run(prog, task(call([1, 2], [3, [1, 2], 1 / 3]), call([2, 2], [4, [2, 2], 0.5])))
    assert [o.status for o in r.outcomes] == ["passed", "failed"]
    assert r.outcomes[1].expected == "[4, [2, 2], 0.5]" and "0.666" in r.outcomes[1].actual


def test_call_tests_on_a_solution_class_get_a_fresh_instance_each(ex):
    prog = "class Solution:\n    def __init__(self):\n        self.seen = 0\n    def twice(self, x):\n        self.seen += 1\n        return 2 * x + self.seen - 1\n"
    r = ex.run(prog, task(call([1], 2), call([5], 10), entry_point="Solution.twice"))
    assert r.passed, [o.message for o in r.outcomes]


# -- stdio ---------------------------------------------------------------------------------------------
def test_stdio_programs_read_stdin_and_are_compared_by_the_rules(ex):
    prog = "import sys\nnums = list(map(int, open(0).read().split()))\nprint(sum(nums))\nprint(sum(nums) / 7)\n"
    t = task(stdio("1 2 3\n", "6\n0.857142857\n"), stdio("10\n", "10\n1.4286\n"), stdio("1\n", "2\n0.142857\n"),
             **STDIO)
    r = ex.run(prog, t)
    assert [o.status for o in r.outcomes] == ["passed", "failed", "failed"]
    assert r.outcomes[2].actual.startswith("1\n") and r.outcomes[2].expected == "2\n0.142857\n"


def test_stdio_exit_codes_exceptions_and_a_fresh_scratch_per_test(ex):
    prog = ("import os, sys\nseen = os.path.exists('note')\nopen('note', 'w').write('x')\nline = input()\n"
            "if line == 'boom':\n    raise KeyError(line)\nif line == 'bad':\n    sys.exit(4)\nprint(seen)\n")
    t = task(stdio("ok\n", "False\n"), stdio("boom\n", ""), stdio("bad\n", ""), stdio("again\n", "False\n"), **STDIO)
    r = ex.run(prog, t)
    assert [o.status for o in r.outcomes] == ["passed", "runtime_error", "runtime_error", "passed"]
    assert r.outcomes[1].exc_type == "KeyError" and "code 4" in r.outcomes[2].message


def test_stdio_large_input(ex):
    data = "\n".join(str(i) for i in range(200_000)) + "\n"
    r = ex.run("import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))\n",
               task(stdio(data, f"{sum(range(200_000))}\n"), **STDIO))
    assert r.passed, r.outcomes[0].message


# -- pytest --------------------------------------------------------------------------------------------
PYTEST_MODULE = '''
import contextlib, io
import pytest
from solution import parse, Tree, ParseError

class TreeNode:
    def __init__(self, val, left=None, right=None):
        self.val, self.left, self.right = val, left, right

def test_parse():
    assert parse("1,2") == [1, 2]

def test_raises():
    with pytest.raises(ParseError, match="empty"):
        parse("")

@pytest.mark.parametrize("text, n", [("1", 1), ("1,2,3", 3), ("4,4", 2)])
def test_lengths(text, n):
    assert len(parse(text)) == n

@pytest.mark.parametrize("text", ["1", "x"])
def test_one_param_fails(text):
    assert parse(text) == [1]

def test_capsys(capsys):
    shout("hi")
    assert capsys.readouterr().out == "HI\\n"

def test_redirect():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        shout("yo")
    assert buf.getvalue() == "YO\\n"

def test_tmp_path(tmp_path):
    p = tmp_path / "data.txt"
    p.write_text("5,6")
    assert parse(p.read_text()) == [5, 6]

def test_tree_by_value():
    root = TreeNode(2, TreeNode(1), TreeNode(3))
    mirrored = mirror(root)
    assert (mirrored.left.val, mirrored.right.val) == (3, 1) and root.left.val == 3

def test_wrong():
    assert parse("7") == [8]
'''
PYTEST_PROG = '''
class ParseError(ValueError):
    pass

def parse(text):
    if not text:
        raise ParseError("empty input")
    return [int(x) for x in text.split(",")]

def shout(s):
    print(s.upper())

class Tree:
    pass

def mirror(node):
    if node is not None:
        node.left, node.right = mirror(node.right), mirror(node.left)
    return node
'''


def test_pytest_tests_run_under_real_pytest_against_the_proxied_solution(ex):
    names = ["test_parse", "test_raises", "test_lengths", "test_one_param_fails", "test_capsys", "test_redirect",
             "test_tmp_path", "test_tree_by_value", "test_wrong", "test_absent"]
    t = task(*[TestCase(kind="pytest", name=n) for n in names], test_module=PYTEST_MODULE, entry_point=None)
    r = ex.run(PYTEST_PROG, t)
    status = {o.name: o.status for o in r.outcomes}
    assert status == {**{n: "passed" for n in names[:8]}, "test_one_param_fails": "runtime_error", "test_wrong": "failed",
                      "test_absent": "failed"}, [(o.name, o.message) for o in r.outcomes if not o.passed]
    wrong = next(o for o in r.outcomes if o.name == "test_wrong")
    assert "[7] == [8]" in wrong.message
