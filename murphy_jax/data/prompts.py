"""Turn-1 and refinement prompts as chat messages, rendered with the tokenizer's chat template.

Templates are configuration: plain ``str.format`` strings with named fields
(``{prompt}``, ``{feedback}``...; write ``{{``/``}}`` for a literal brace). The
defaults live in one place, ``PromptTemplates``; ``prompt_config_defaults()``
returns them as a dict for ``configs/base.py`` and ``PromptTemplates.from_config``
reads such a dict back (unknown keys or fields are errors naming the key).

Conversation shape (``build_messages``):

* turn 1: ``[system?, user(turn1)]``;
* refinement with ``history="last"``: ``[system?, user(turn1), assistant(last
  attempt), user(refine with its feedback)]``;
* ``history="full"``: every earlier attempt and its feedback as alternating
  assistant/user turns.

An attempt is shown as the model wrote it (``attempt_format="response"``) or as
its extracted code in a fence (``"code"``). ``render_text`` applies the chat
template with ``add_generation_prompt=True``; a tokenizer without one gets the
plain format ``plain_system``/``plain_user``/``plain_assistant`` + ``plain_generation``
(defaults: ``### User`` / ``### Assistant`` headers).
"""
from __future__ import annotations

import dataclasses
import string
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from murphy_jax.data.extract import ExtractedCode
from murphy_jax.data.task import CodeTask

HISTORY_MODES = ("last", "full")
ATTEMPT_FORMATS = ("response", "code")



@dataclass(frozen=True)
class PromptTemplates:
    """Every prompt string, with its allowed fields listed in ``FIELDS``."""

    system: str = ("You are an expert Python programmer. Think about the problem, then give your "
                   "complete solution in a single ```python code block.")
    turn1: str = "{problem}\n\n{instructions}"
    # `problem` when the statement is prose, and when it is code to complete (HumanEval).
    problem_text: str = "{prompt}"
    problem_code: str = "Complete the following Python code:\n```python\n{prompt}\n```"
    function_instructions: str = ("Write the Python function `{entry_point}`. Return the complete code, "
                                  "with any imports and helper functions, in a single ```python code block.")
    starter_instructions: str = ("Use this starter code:\n```python\n{starter_code}\n```\n"
                                 "Return the complete code in a single ```python code block.")
    stdio_instructions: str = ("Write a complete Python program that reads the input from standard input "
                               "and prints the answer to standard output. Return it in a single "
                               "```python code block.")
    generic_instructions: str = "Return your complete solution in a single ```python code block."
    refine: str = ("Your code was run on the tests. Execution feedback:\n{feedback}\n\n"
                   "Fix the code so that it passes all tests. Return the complete corrected code "
                   "in a single ```python code block.")
    attempt_code: str = "```python\n{code}\n```"
    no_code_feedback: str = ("No code could be run: {reason}. Put your complete solution in a single "
                             "```python code block.")
    plain_system: str = "{content}\n\n"
    plain_user: str = "### User\n{content}\n\n"
    plain_assistant: str = "### Assistant\n{content}\n\n"
    plain_generation: str = "### Assistant\n"

    FIELDS = {
        "system": (),
        "turn1": ("problem", "instructions", "entry_point"),
        "problem_text": ("prompt", "entry_point"),
        "problem_code": ("prompt", "entry_point"),
        "function_instructions": ("entry_point",),
        "starter_instructions": ("starter_code", "entry_point"),
        "stdio_instructions": (),
        "generic_instructions": (),
        "refine": ("feedback", "attempt", "entry_point"),
        "attempt_code": ("code",),
        "no_code_feedback": ("reason",),
        "plain_system": ("content",),
        "plain_user": ("content",),
        "plain_assistant": ("content",),
        "plain_generation": (),
    }

    def __post_init__(self) -> None:
        for name, allowed in self.FIELDS.items():
            value = getattr(self, name)
            where = f"prompts.templates.{name}"
            if not isinstance(value, str):
                raise ValueError(f"{where}: must be a string, got {type(value).__name__}")
            try:
                used = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
            except ValueError as e:
                raise ValueError(f"{where}: bad template ({e}); write {{{{ and }}}} for literal braces") from None
            unknown = sorted(u for u in used if u not in allowed)
            if unknown:
                raise ValueError(f"{where}: unknown field(s) {unknown}; allowed: {list(allowed) or 'none'}")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> "PromptTemplates":
        """Defaults overridden by ``cfg`` (a dict or ConfigDict); unknown keys are errors."""
        if cfg is None:
            return cls()
        if hasattr(cfg, "to_dict"):
            cfg = cfg.to_dict()
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(cfg) - names)
        if unknown:
            raise ValueError(f"prompts.templates: unknown key(s) {unknown}; allowed: {sorted(names)}")
        return cls(**dict(cfg))


def prompt_config_defaults() -> dict[str, str]:
    """The default templates as a plain dict (what ``configs/base.py`` should hold)."""
    return dataclasses.asdict(PromptTemplates())


@dataclass(frozen=True)
class Attempt:
    """One earlier try: the model's raw response, the feedback it got, and optionally its extracted code."""

    response: str
    feedback: str
    code: str | None = None


def _templates(templates: PromptTemplates | Mapping | None) -> PromptTemplates:
    return templates if isinstance(templates, PromptTemplates) else PromptTemplates.from_config(templates)


def turn1_text(task: CodeTask, templates: PromptTemplates | Mapping | None = None) -> str:
    """The first user message for ``task``."""
    t = _templates(templates)
    entry = task.entry_point or ""
    starter = task.starter_code.rstrip()
    prompt_is_code = bool(starter) and task.prompt.strip() == task.starter_code.strip()
    if prompt_is_code:
        problem = t.problem_code.format(prompt=task.prompt.rstrip("\n"), entry_point=entry)
    else:
        problem = t.problem_text.format(prompt=task.prompt.strip(), entry_point=entry)
    if task.io_mode == "stdio":
        instructions = t.stdio_instructions.format()
    elif starter and not prompt_is_code:
        instructions = t.starter_instructions.format(starter_code=starter, entry_point=entry)
    elif entry:
        instructions = t.function_instructions.format(entry_point=entry)
    else:
        instructions = t.generic_instructions.format()
    return t.turn1.format(problem=problem, instructions=instructions, entry_point=entry)


def no_code_feedback(extracted: ExtractedCode, templates: PromptTemplates | Mapping | None = None) -> str:
    """Feedback for a response with no runnable code (the zero-reward outcome of extraction)."""
    return _templates(templates).no_code_feedback.format(reason=extracted.reason_text or "no code was found")


def build_messages(task: CodeTask, attempts: Sequence[Attempt] = (), history: str = "last",
                   templates: PromptTemplates | Mapping | None = None,
                   attempt_format: str = "response") -> list[dict[str, str]]:
    """Chat messages for the next turn: turn 1 when ``attempts`` is empty, else a refinement."""
    if history not in HISTORY_MODES:
        raise ValueError(f"prompts.history={history!r}: must be one of {HISTORY_MODES}")
    if attempt_format not in ATTEMPT_FORMATS:
        raise ValueError(f"prompts.attempt_format={attempt_format!r}: must be one of {ATTEMPT_FORMATS}")
    t = _templates(templates)
    msgs: list[dict[str, str]] = []
    if t.system.strip():
        msgs.append({"role": "system", "content": t.system})
    msgs.append({"role": "user", "content": turn1_text(task, t)})
    shown = list(attempts) if history == "full" else list(attempts)[-1:]
    first = len(attempts) - len(shown)
    for k, a in enumerate(shown):
        if attempt_format == "code" and a.code:
            content = t.attempt_code.format(code=a.code.strip("\n"))
        else:
            content = a.response
        msgs.append({"role": "assistant", "content": content})
        msgs.append({"role": "user", "content": t.refine.format(
            feedback=a.feedback.strip(), attempt=first + k + 1, entry_point=task.entry_point or "")})
    return msgs


def has_chat_template(tokenizer) -> bool:
    """Whether ``apply_chat_template`` can be used on this tokenizer."""
    return bool(getattr(tokenizer, "chat_template", None))


def _plain(messages: Sequence[Mapping[str, str]], t: PromptTemplates) -> str:
    fmt = {"system": t.plain_system, "user": t.plain_user, "assistant": t.plain_assistant}
    out = []
    for m in messages:
        if m["role"] not in fmt:
            raise ValueError(f"message role {m['role']!r}: must be system, user or assistant")
        out.append(fmt[m["role"]].format(content=m["content"]))
    return "".join(out) + t.plain_generation.format()


def _merge_system(messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    msgs = [dict(m) for m in messages]
    if msgs and msgs[0]["role"] == "system" and len(msgs) > 1:
        sys_msg = msgs.pop(0)
        msgs[0]["content"] = sys_msg["content"] + "\n\n" + msgs[0]["content"]
    return msgs


def render_text(tokenizer, messages: Sequence[Mapping[str, str]],
                templates: PromptTemplates | Mapping | None = None,
                chat_template_kwargs: Mapping[str, Any] | None = None) -> str:
    """Prompt text ending where the model's answer starts (chat template, or the plain fallback)."""
    if not has_chat_template(tokenizer):
        return _plain(messages, _templates(templates))
    kw = dict(chat_template_kwargs or {})
    try:
        return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True, **kw)
    except Exception as e:
        # Some templates (Gemma) reject the system role: fold it into the first user turn.
        if messages and messages[0]["role"] == "system" and "system" in str(e).lower():
            return tokenizer.apply_chat_template(_merge_system(messages), tokenize=False,
                                                 add_generation_prompt=True, **kw)
        raise


def encode_prompt(tokenizer, text: str) -> list[int]:
    """Token ids of a rendered prompt; special tokens are added only for the plain format."""
    # A chat template already spells BOS etc. in its text; the plain format relies on the tokenizer.
    return list(tokenizer(text, add_special_tokens=not has_chat_template(tokenizer))["input_ids"])


def render(task: CodeTask, tokenizer, attempts: Sequence[Attempt] = (), history: str = "last",
           templates: PromptTemplates | Mapping | None = None, attempt_format: str = "response",
           chat_template_kwargs: Mapping[str, Any] | None = None) -> list[int]:
    """Token ids of the next prompt for ``task`` given earlier ``attempts`` (turn 1 when empty)."""
    t = _templates(templates)
    msgs = build_messages(task, attempts, history=history, templates=t, attempt_format=attempt_format)
    return encode_prompt(tokenizer, render_text(tokenizer, msgs, t, chat_template_kwargs))
