"""Feedback text shown to the policy in the next turn.

Only public tests are ever described (private ones contribute to the pass count only).
Everything that came from the program (outputs, messages, tracebacks) is escaped so that a
chat-template special token printed by the program arrives as plain text, control characters
are made visible, long lines and fields are cut, and the whole text is capped at ``max_chars``.
"""
from __future__ import annotations

import re

# Tokens the common chat templates treat specially (Qwen, OLMo, Llama 3, Gemma, Mistral, DeepSeek, ...);
# anything of the form <|...|> is escaped too. Pass a tokenizer's all_special_tokens for others.
SPECIAL_TOKENS = ("<s>", "</s>", "<unk>", "<pad>", "<bos>", "<eos>", "<think>", "</think>", "<tool_call>",
                  "</tool_call>", "<start_of_turn>", "<end_of_turn>", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>",
                  "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>")
_PIPE_TOKEN = re.compile(r"<\|[^<>|\n]{0,64}\|>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\r]")
MAX_LINE = 400
_ADVICE = {
    "timeout": "Time limit exceeded",
    "memory_limit": "Memory limit exceeded",
    "output_limit": "Output limit exceeded",
}


def escape_special_tokens(text: str, extra_tokens=()) -> str:
    """Break every special-token spelling by inserting a backslash after its first character."""
    text = _PIPE_TOKEN.sub(lambda m: m.group(0)[0] + "\\" + m.group(0)[1:], text)
    for tok in tuple(SPECIAL_TOKENS) + tuple(extra_tokens):
        if tok and tok in text:
            text = text.replace(tok, tok[0] + "\\" + tok[1:])
    return text


def sanitize(text: str | None, cap: int, extra_tokens=()) -> str:
    """Escape, make control characters visible, cut long lines and cap the length of one field."""
    if not text:
        return ""
    if len(text) > cap * 4:
        text = text[: cap * 4]
    text = _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group(0)), text)
    lines = []
    for line in text.split("\n"):
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + f" ... [{len(line) - MAX_LINE} more characters]"
        lines.append(line)
    text = escape_special_tokens("\n".join(lines), extra_tokens)
    if len(text) > cap:
        text = text[: max(0, cap - 16)] + " ... [truncated]"
    return text


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.split("\n"))


def _describe(o, n: int, field_cap: int, extra_tokens) -> str:
    s = lambda t: sanitize(t, field_cap, extra_tokens)  # noqa: E731
    head = f"Test {n} ({o.kind}): {s(o.name)}"
    parts = [head]
    if o.status in _ADVICE:
        parts.append(f"  {_ADVICE[o.status]}: {s(o.message)}")
    elif o.status == "runtime_error":
        parts.append(f"  Runtime error: {s(o.message)}")
        if o.traceback:
            parts.append(_indent(s(o.traceback)))
    elif o.status == "syntax_error":
        parts.append("  Syntax error")
    else:
        if o.expected is not None or o.actual is not None:
            parts.append(f"  Expected: {s(o.expected if o.expected is not None else '')}")
            parts.append(f"  Got:      {s(o.actual if o.actual is not None else '')}")
            if o.message and o.message not in ("wrong answer", "wrong output") and not o.message.startswith("expected"):
                parts.append(f"  {s(o.message)}")
        else:
            parts.append(f"  Failed: {s(o.message) or 'assertion failed'}")
    if o.status in ("timeout", "memory_limit", "output_limit") and o.actual:
        parts.append(f"  Output so far: {s(o.actual)}")
    return "\n".join(parts)


def render_feedback(result, task=None, *, max_chars: int = 2000, max_tests: int = 3, field_chars: int = 600,
                    extra_special_tokens=()) -> str:
    """The execution feedback for the next turn (public failures only, escaped, at most ``max_chars``)."""
    s = lambda t, cap=field_chars: sanitize(t, cap, extra_special_tokens)  # noqa: E731
    if result.status == "no_code":
        return "Your response contained no code. Write the complete program in a ```python code block."[:max_chars]
    n, k = result.n_tests, result.n_passed
    if result.status == "passed":
        return f"All {n} tests passed."[:max_chars]
    if result.status == "syntax_error":
        text = "Your program could not be compiled:\n" + _indent(s(result.message, max_chars))
        return _cap(text, max_chars)
    sections = [f"Passed {k}/{n} tests."]
    if result.message:
        sections.append(s(result.message))
    public_failures = [o for o in result.outcomes if o.public and not o.passed]
    hidden = sum(1 for o in result.outcomes if not o.public and not o.passed)
    for j, o in enumerate(public_failures[:max_tests], 1):
        sections.append(_describe(o, j, field_chars, extra_special_tokens))
    more = len(public_failures) - max_tests
    if more > 0:
        sections.append(f"{more} more public test(s) failed.")
    if hidden:
        sections.append(f"{hidden} hidden test(s) failed.")
    return _cap("\n\n".join(sections), max_chars)


def _cap(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    marker = "\n[feedback truncated]"
    return text[: max(0, max_chars - len(marker))] + marker if max_chars > len(marker) else text[:max_chars]
