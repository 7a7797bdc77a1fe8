"""The expansion loop with the real executor: tree shape, feedback-conditioned prompts, budgets, JSONL."""
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.data.bundled import load_bundled
from murphy_jax.execution import Executor, ExecutorConfig, InfraError
from murphy_jax.models import from_pretrained, load_tokenizer
from murphy_jax.rollout import ModelGenerator, RolloutConfig, RolloutTree, ScriptedGenerator, run_rollout
from murphy_jax.sampling import Sampler


@pytest.fixture(scope="module")
def executor():
    with Executor(ExecutorConfig()) as ex:
        yield ex


@pytest.fixture(scope="module")
def tasks():
    return load_bundled("train")[:4]


def _wrong(t):
    return f"```python\ndef {t.entry_point}(*args):\n    return None\n```"


def _right(t):
    return f"Here it is:\n```python\n{t.reference_solution}\n```"


def test_only_failed_nodes_expanded_with_k_children(executor, tasks):
    seen = []

    def respond(req, k):
        seen.append(req)
        # Task 0 is solved by every turn-1 sample; others fail at turn 1 (half with no code) and are fixed later.
        if req.turn == 1:
            if req.task is tasks[0]:
                return _right(req.task)
            return _wrong(req.task) if k % 2 == 0 else "I am not sure."
        return _right(req.task) if req.turn == 3 else _wrong(req.task)

    cfg = RolloutConfig(group_size=4, children=3, turns=3)
    tree, stats = run_rollout(tasks, ScriptedGenerator(respond), executor, cfg)
    tree.validate()
    t1 = np.flatnonzero(tree.turn == 1)
    assert len(t1) == 16 and stats.nodes_per_turn == [16, 12 * 3, 36 * 3]
    assert tree.succeeded[t1[tree.task[t1] == 0]].all() and not tree.has_children()[tree.task == 0].any()
    for p in np.flatnonzero(tree.has_children()):
        kids = tree.children(p)
        assert len(kids) == 3 and not tree.succeeded[p]
        assert len({int(tree.group[k]) for k in kids}) == 1  # one sibling group per parent
    assert tree.turn.max() == 3 and tree.succeeded[tree.turn == 3].all()
    assert not tree.has_children()[tree.turn == 3].any()  # S respected
    assert stats.no_code == 6 and stats.executor_calls == len(tree) - 6
    # A no-code node has reward 0 and feedback saying so.
    nc = [i for i in t1 if tree.meta[i]["status"] == "no_code"]
    assert len(nc) == 6 and all(tree.reward[i] == 0 for i in nc) and "No code" in tree.feedback[nc[0]]
    # Refinement prompts carry the previous attempt and its feedback.
    turn2 = [r for r in seen if r.turn == 2]
    parent = int(tree.parent[np.flatnonzero(tree.turn == 2)[0]])
    msgs = turn2[0].messages
    assert msgs[-2]["role"] == "assistant" and msgs[-2]["content"] == tree.response_text[parent]
    assert tree.feedback[parent].strip() in msgs[-1]["content"]


def test_full_history_and_expand_budget(executor, tasks):
    seen = []

    def respond(req, k):
        seen.append(req)
        if req.turn == 1:  # graded partial rewards: k-th sample passes some tests when k is odd
            return _right(req.task) if k == 3 else _wrong(req.task)
        return _wrong(req.task)

    cfg = RolloutConfig(group_size=4, children=2, turns=3, history="full", expand_budget=2)
    tree, stats = run_rollout(tasks[1:3], ScriptedGenerator(respond), executor, cfg)
    assert stats.expanded_per_turn == [4, 4]  # 3 failed per tree at turn 1, budget 2 per tree
    turn3 = [r for r in seen if r.turn == 3][0]
    assert sum(m["role"] == "assistant" for m in turn3.messages) == 2  # both earlier attempts shown


def test_tiny_model_rollout_records_tokens_and_round_trips(executor, tasks, tiny_policy_dir, tmp_path):
    model = from_pretrained(tiny_policy_dir, dtype=jnp.float32)
    tok = load_tokenizer(tiny_policy_dir)
    sampler = Sampler.for_tokenizer(model.config, tok, max_rows=16)
    gen = ModelGenerator(sampler, tok, model.params(), max_new_tokens=12, temperature=1.0, max_prompt_tokens=400)
    cfg = RolloutConfig(group_size=2, children=2, turns=2, seed=5)
    tree, stats = run_rollout(tasks[:2], gen, executor, cfg, step=3)
    # A random model writes no valid code: every turn-1 node fails and is expanded into K=2 children.
    assert stats.nodes_per_turn == [4, 8] and not tree.succeeded.any()
    for i in range(len(tree)):
        assert len(tree.response_ids[i]) == len(tree.logprobs[i]) > 0
        assert (tree.logprobs[i] <= 0).all()
        assert tok.decode(tree.prompt_ids[i]) == tree.prompt_text[i]
    child = int(np.flatnonzero(tree.turn == 2)[0])
    parent = int(tree.parent[child])
    assert tree.response_text[parent] in tree.prompt_text[child]
    assert tree.feedback[parent].strip().splitlines()[0] in tree.prompt_text[child]
    assert stats.generated_tokens == sum(len(r) for r in tree.response_ids)
    path = tmp_path / "tree.jsonl"
    tree.dump_jsonl(path)
    back = RolloutTree.load_jsonl(path)
    assert back.parent.tolist() == tree.parent.tolist() and back.feedback == tree.feedback
    assert all((a == b).all() for a, b in zip(back.response_ids, tree.response_ids))


class _FlakyExecutor:
    """The real executor with one injected infrastructure failure (fault injection, not a stand-in)."""

    def __init__(self, real, failures):
        self.real, self.failures = real, failures

    def submit_batch(self, programs, tasks):
        fut = self.real.submit_batch(programs, tasks)
        if self.failures:
            self.failures -= 1

            class Failed:
                def result(self, timeout=None):
                    fut.result()
                    raise InfraError("worker pool lost (injected)")
            return Failed()
        return fut


def test_infra_errors_are_retried_then_raised(executor, tasks):
    respond = lambda req, k: _right(req.task)  # noqa: E731
    cfg = RolloutConfig(group_size=2, turns=1, exec_retries=1)
    tree, stats = run_rollout(tasks[:1], ScriptedGenerator(respond), _FlakyExecutor(executor, 1), cfg)
    assert stats.infra_retries == 1 and tree.succeeded.all()
    with pytest.raises(InfraError, match="executor failed 2 times"):
        run_rollout(tasks[:1], ScriptedGenerator(respond), _FlakyExecutor(executor, 2), cfg)


def test_bad_config_names_the_key():
    with pytest.raises(ValueError, match="rollout.history='all': must be 'last'|'full'"):
        RolloutConfig(history="all").validate()
