"""Reading an SDK response into plain data: its answer text and its token usage.

Responses report ``input_tokens`` / ``output_tokens`` (with ``input_tokens_details.cached_tokens``
and ``output_tokens_details.reasoning_tokens``); Chat Completions say ``prompt_tokens`` /
``completion_tokens``. ``usage_dict`` turns either into the result schema's five keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_utils.errors import InvalidResult

__all__ = ["USAGE_KEYS", "output_text", "usage_dict"]

USAGE_KEYS = ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens", "total_tokens")
_CHAT_USAGE = {"prompt_tokens": "input_tokens", "completion_tokens": "output_tokens"}


def _complete(found: dict[str, Any]) -> dict[str, int]:
    for key, value in found.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidResult(f"usage_dict(): {key} must be a whole number >= 0, got {value!r}")
    full = {k: int(found.get(k, 0)) for k in USAGE_KEYS}
    if "total_tokens" not in found:
        full["total_tokens"] = full["input_tokens"] + full["output_tokens"]
    return full


def usage_dict(usage: Any) -> dict[str, int] | None:
    """The schema's plain usage dict from an SDK usage object (Responses or Chat) or a dict."""
    if usage is None:
        return None
    raw = usage.model_dump() if hasattr(usage, "model_dump") else usage
    if not isinstance(raw, Mapping):
        raise InvalidResult(
            f"usage_dict() takes response.usage (or a dict), got {type(usage).__name__}"
        )

    def detail(parent: str, key: str) -> int:
        inner = raw.get(parent) or {}
        value = inner.get(key) if isinstance(inner, Mapping) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    if "prompt_tokens" in raw or "completion_tokens" in raw:
        found = {
            "input_tokens": raw.get("prompt_tokens") or 0,
            "output_tokens": raw.get("completion_tokens") or 0,
            "reasoning_tokens": detail("completion_tokens_details", "reasoning_tokens"),
            "cached_tokens": detail("prompt_tokens_details", "cached_tokens"),
        }
    else:
        found = {
            "input_tokens": raw.get("input_tokens") or 0,
            "output_tokens": raw.get("output_tokens") or 0,
            "reasoning_tokens": raw.get("reasoning_tokens")
            or detail("output_tokens_details", "reasoning_tokens"),
            "cached_tokens": raw.get("cached_tokens")
            or detail("input_tokens_details", "cached_tokens"),
        }
    if raw.get("total_tokens") is not None:
        found["total_tokens"] = raw["total_tokens"]
    return _complete(found)


def output_text(response: Any) -> str:
    """The answer text of a Responses or Chat Completions response."""
    text = getattr(response, "output_text", None)
    if isinstance(text, str):
        return text
    choices = getattr(response, "choices", None)
    if choices:
        content = getattr(getattr(choices[0], "message", None), "content", None)
        return content if isinstance(content, str) else ""
    raise InvalidResult(
        f"Result.from_response() takes a Responses or Chat Completions response, got "
        f"{type(response).__name__}"
    )
