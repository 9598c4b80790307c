"""One structured record per request, shared by Exercise 3, the runner's JSONL and the batch path.

A ``Result`` turns every outcome, success or failure, into the same row of data, so a batch
keeps going past a bad prompt and a report can count, filter and retry failures later.

The schema (documented here once; the runner, the batch path and Exercise 3 use these names):

=============  ==================  ===========================================================
field          type                meaning
=============  ==================  ===========================================================
``id``         str or int          the prompt's id (a line number, or the id in a JSONL input)
``prompt``     str                 the prompt as sent (logs show only a preview; this keeps it)
``ok``         bool                True when an answer came back
``output``     str or None         the answer text; a str whenever ``ok`` (may be empty)
``error_type`` str or None         None when ``ok``; else a category name from
                                   ``course_utils.errors.CATEGORIES`` (``rate_limit``, ...)
``message``    str or None         on failure, what happened and what to do (required then)
``attempts``   int >= 0            requests actually sent (0: stopped before sending)
``usage``      dict or None        ``input_tokens``, ``output_tokens``, ``reasoning_tokens``,
                                   ``cached_tokens``, ``total_tokens`` (ints); None if unknown
``latency_s``  float >= 0          wall time for the whole call, retries and waits included
``request_id`` str or None         the service's ``x-request-id``, for a support ticket
``batch_id``   str or None         the Batch API job the record came from, if any
=============  ==================  ===========================================================

``to_dict()`` / ``Result.from_dict(d)`` and ``to_json()`` / ``Result.from_json(s)`` round-trip
exactly; ``to_json()`` is one line, so a JSONL file is one ``to_json()`` per line. Bad input
raises ``InvalidResult`` (a ``ValueError``) naming the field, what it got and what it expects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import CATEGORIES, CourseError, classify

__all__ = [
    "FIELD_NAMES",
    "USAGE_KEYS",
    "InvalidResult",
    "Result",
    "results_markdown",
    "usage_dict",
]

USAGE_KEYS = ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens", "total_tokens")
_CHAT_USAGE = {"prompt_tokens": "input_tokens", "completion_tokens": "output_tokens"}


class InvalidResult(CourseError, ValueError):
    """A Result (or a dict / JSON line meant to be one) breaks the schema."""


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_usage(usage: Any, where: str) -> dict[str, int] | None:
    if usage is None:
        return None
    if not isinstance(usage, Mapping):
        raise InvalidResult(
            f"{where}: usage must be a dict of token counts or None, got "
            f"{type(usage).__name__}; convert an SDK usage object with usage_dict(response.usage)"
        )
    unknown = [k for k in usage if k not in USAGE_KEYS]
    if unknown:
        chat = [k for k in unknown if k in _CHAT_USAGE]
        tip = (
            f" ({', '.join(chat)} are Chat Completions names: usage_dict() converts them)"
            if chat
            else ""
        )
        raise InvalidResult(
            f"{where}: usage has unknown key(s) {', '.join(map(repr, unknown))}{tip}; "
            f"the keys are {', '.join(USAGE_KEYS)}"
        )
    for key in ("input_tokens", "output_tokens"):
        if key not in usage:
            raise InvalidResult(f"{where}: usage is missing {key!r}")
    for key, value in usage.items():
        if not _whole(value) or value < 0:
            raise InvalidResult(
                f"{where}: usage[{key!r}] must be a whole number of tokens >= 0, got {value!r}"
            )
    full = {k: int(usage.get(k, 0)) for k in USAGE_KEYS}
    if "total_tokens" not in usage:
        full["total_tokens"] = full["input_tokens"] + full["output_tokens"]
    return full


def usage_dict(usage: Any) -> dict[str, int] | None:
    """The schema's plain usage dict from an SDK usage object (Responses or Chat) or a dict.

    Responses report ``input_tokens`` / ``output_tokens`` with ``input_tokens_details.
    cached_tokens`` and ``output_tokens_details.reasoning_tokens``; Chat Completions say
    ``prompt_tokens`` / ``completion_tokens`` with ``prompt_tokens_details`` and
    ``completion_tokens_details``. Both become the same five keys.
    """
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
    return _check_usage(found, "usage_dict()")


def _output_text(response: Any) -> str:
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


@dataclass(frozen=True)
class Result:
    """The outcome of one prompt, success or failure; the module docstring is the schema."""

    id: str | int
    prompt: str
    ok: bool
    output: str | None
    error_type: str | None
    message: str | None
    attempts: int
    usage: dict[str, int] | None
    latency_s: float
    request_id: str | None = None
    batch_id: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.id, str) and self.id) and not _whole(self.id):
            raise InvalidResult(f"Result: id must be a non-empty str or an int, got {self.id!r}")
        where = f"Result(id={self.id!r})"

        def bad(field: str, expected: str) -> InvalidResult:
            return InvalidResult(
                f"{where}: {field} must be {expected}, got {getattr(self, field)!r}"
            )

        if not isinstance(self.prompt, str):
            raise bad("prompt", "the prompt text (a str)")
        if not isinstance(self.ok, bool):
            raise bad("ok", "True or False")
        if self.output is not None and not isinstance(self.output, str):
            raise bad("output", "the answer text (a str) or None")
        if not _whole(self.attempts) or self.attempts < 0:
            raise bad("attempts", "the number of requests sent, a whole number >= 0")
        if self.message is not None and not isinstance(self.message, str):
            raise bad("message", "a str or None")
        latency = self.latency_s
        if isinstance(latency, bool) or not isinstance(latency, int | float):
            raise bad("latency_s", "seconds as a number >= 0")
        if not math.isfinite(latency) or latency < 0:
            raise bad("latency_s", "seconds as a finite number >= 0")
        object.__setattr__(self, "latency_s", float(latency))
        for name in ("request_id", "batch_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise bad(name, "a str or None")
        object.__setattr__(self, "usage", _check_usage(self.usage, where))
        if self.ok:
            if self.output is None:
                raise bad("output", "the answer text when ok=True (use '' for an empty answer)")
            if self.error_type is not None:
                raise bad("error_type", "None when ok=True")
            if self.attempts < 1:
                raise bad("attempts", "at least 1 when ok=True (an answer needs a request)")
        else:
            names = [c.name for c in CATEGORIES]
            if self.error_type not in names:
                raise bad(
                    "error_type",
                    f"a category name when ok=False (one of {', '.join(names)}; "
                    f"classify(err).category gives it)",
                )
            if not self.message:
                raise bad("message", "what happened and what to do when ok=False")

    # --- building one -----------------------------------------------------------------------
    @classmethod
    def from_response(
        cls,
        id: str | int,
        prompt: str,
        response: Any,
        *,
        attempts: int,
        latency_s: float,
        batch_id: str | None = None,
    ) -> Result:
        """A success from an SDK response: its text, usage and request id."""
        request_id = getattr(response, "_request_id", None)
        return cls(
            id=id,
            prompt=prompt,
            ok=True,
            output=_output_text(response),
            error_type=None,
            message=None,
            attempts=attempts,
            usage=usage_dict(getattr(response, "usage", None)),
            latency_s=latency_s,
            request_id=request_id if isinstance(request_id, str) else None,
            batch_id=batch_id,
        )

    @classmethod
    def from_error(
        cls,
        id: str | int,
        prompt: str,
        exc: BaseException,
        *,
        attempts: int,
        latency_s: float,
        batch_id: str | None = None,
    ) -> Result:
        """A failure from the exception that ended the call, classified by ``errors.classify``."""
        info = classify(exc)
        return cls(
            id=id,
            prompt=prompt,
            ok=False,
            output=None,
            error_type=info.category,
            message=info.advice,
            attempts=attempts,
            usage=None,
            latency_s=latency_s,
            request_id=info.request_id,
            batch_id=batch_id,
        )

    # --- data in and out --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain dict in schema order (a copy: changing it leaves the Result alone)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The Result a ``to_dict()`` (or a runner JSONL line, parsed) describes; strict."""
        if not isinstance(data, Mapping):
            raise InvalidResult(
                f"Result.from_dict() takes a dict with the fields {', '.join(FIELD_NAMES)}; "
                f"got {type(data).__name__}"
            )
        label = f"Result.from_dict(id={data.get('id')!r})"
        unknown = [k for k in data if k not in FIELD_NAMES]
        if unknown:
            raise InvalidResult(
                f"{label}: unknown field(s) {', '.join(map(repr, unknown))}; "
                f"a Result has {', '.join(FIELD_NAMES)}"
            )
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise InvalidResult(f"{label}: missing field(s) {', '.join(map(repr, missing))}")
        return cls(**dict(data))

    def to_json(self) -> str:
        """One line of JSON (a JSONL record); non-ASCII text kept readable."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Result:
        """The Result one JSON line describes."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as err:
            preview = repr(text[:60]) if isinstance(text, str | bytes) else type(text).__name__
            raise InvalidResult(f"Result.from_json(): not valid JSON ({err}): {preview}") from None
        return cls.from_dict(data)

    def with_(self, **changes: Any) -> Result:
        """A copy with some fields changed, validated again (``r.with_(batch_id="b_1")``)."""
        return replace(self, **changes)


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Result))
_REQUIRED = tuple(f.name for f in fields(Result) if f.name not in ("request_id", "batch_id"))


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
            f"| {r.id} | {_cut(r.prompt, prompt_chars)} | {'✅' if r.ok else '❌'} | "
            f"{r.error_type or ''} | {r.attempts} | {tokens} | {r.latency_s:.2f} s | "
            f"{_cut(r.output if r.ok else r.message, text_chars)} |"
        )
    rows.append(f"\n{ok} succeeded, {failed} failed")
    return "\n".join(rows)
