"""A Markdown table of result records, for a notebook: one row each, then a count."""

from __future__ import annotations

from collections.abc import Iterable

from course_utils.errors import InvalidResult
from course_utils.results import Result

__all__ = ["results_markdown"]


def _cut(text: str | None, chars: int) -> str:
    text = " ".join((text or "").split()).replace("|", "\\|")
    return text if len(text) <= chars else text[: chars - 1] + "…"


def results_markdown(
    results: Iterable[Result], *, prompt_chars: int = 30, text_chars: int = 50
) -> str:
    """A Markdown table of results (one row each, answers and messages shortened) plus a count."""
    rows = [
        "| id | prompt | ok | error_type | attempts | tokens | latency | output or message |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok = failed = 0
    for r in results:
        if not isinstance(r, Result):
            raise InvalidResult(f"results_markdown() takes Result objects, got {type(r).__name__}")
        ok, failed = ok + r.ok, failed + (not r.ok)
        tokens = str(r.usage["total_tokens"]) if r.usage else "–"
        rows.append(
            f"| {r.id} | {_cut(r.prompt, prompt_chars)} | {'✅ ok' if r.ok else '❌ failed'} | "
            f"{r.error_type or ''} | {r.attempts} | {tokens} | {r.latency_s:.2f} s | "
            f"{_cut(r.output if r.ok else r.message, text_chars)} |"
        )
    rows.append(f"\n{ok} succeeded, {failed} failed")
    return "\n".join(rows)
