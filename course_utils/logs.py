"""The course's logging set-up: one plain line per event, with the fields a reader needs.

``setup_logging()`` configures the logger ``"course"`` (and so every ``"course.*"`` child) to
write plain lines to standard output. In Jupyter that renders as ordinary cell output, not the
pink box the notebook gives anything on stderr, so a retry log reads as part of the lesson.

Log through it with the structured fields as ``extra`` (the names ``Result`` uses too)::

    log = setup_logging()
    log.warning("retrying", extra={"operation": "responses.create", "model": "gpt-4o-mini",
                                   "attempt": 2, "error_type": "rate_limit",
                                   "request_id": "req_123", "wait_s": 1.25})
    # 14:02:07 WARNING retrying | operation=responses.create model=gpt-4o-mini attempt=2
    #   error_type=rate_limit request_id=req_123 wait_s=1.25        (one line in the output)

``FIELDS`` come first in that order; any other ``extra`` follows as given. Two promises hold for
every line, whoever logs it:

- **No key.** Anything shaped like an OpenAI key (``sk-...``), a ``Bearer`` token, the value of
  ``OPENAI_API_KEY`` and fields named like a secret (``api_key``, ``authorization``) print as
  ``[redacted]``.
- **No whole prompt** unless asked: a ``prompt`` field prints as its first
  ``prompt_chars`` characters (40 by default) with its length; ``setup_logging(full_prompts=True)``
  opts in to the full text.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import IO, Any

from course_utils.validate import whole

__all__ = ["FIELDS", "LOGGER_NAME", "get_logger", "redact", "setup_logging"]

LOGGER_NAME = "course"
FIELDS = ("operation", "model", "attempt", "error_type", "request_id")
"""Structured fields, printed first and in this order when a record carries them."""

DEFAULT_PROMPT_CHARS = 40
_SECRET_FIELDS = frozenset({"api_key", "key", "authorization", "token", "secret", "password"})
_KEY_PATTERN = re.compile(r"(sk-[A-Za-z0-9_\-]{6,}|Bearer\s+\S+)")
_REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def redact(text: str) -> str:
    """``text`` with anything that looks like an API key replaced by ``[redacted]``."""
    text = _KEY_PATTERN.sub(_REDACTED, text)
    env_key = os.environ.get("OPENAI_API_KEY", "").strip()
    if len(env_key) >= 8:  # a short value would redact ordinary words
        text = text.replace(env_key, _REDACTED)
    return text


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    text = str(value)
    if not text or any(ch.isspace() for ch in text) or "=" in text:
        return repr(text)
    return text


class _CourseFormatter(logging.Formatter):
    """``time LEVEL message | key=value ...``; prompts shortened, keys redacted."""

    def __init__(self, prompt_chars: int, full_prompts: bool, show_time: bool) -> None:
        fmt = "%(asctime)s %(levelname)s %(message)s" if show_time else "%(levelname)s %(message)s"
        super().__init__(fmt, datefmt="%H:%M:%S")
        self.prompt_chars = prompt_chars
        self.full_prompts = full_prompts

    def _field(self, name: str, value: Any) -> str:
        if name.lower() in _SECRET_FIELDS:
            return f"{name}={_REDACTED}"
        shorten = name == "prompt" and isinstance(value, str) and not self.full_prompts
        if shorten and len(value) > self.prompt_chars:
            value = f"{value[: self.prompt_chars]}… ({len(value)} chars)"
        return f"{name}={_show(value)}"

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        ordered = [k for k in FIELDS if extras.get(k) is not None]
        ordered += [k for k in extras if k not in FIELDS and not k.startswith("_")]
        if ordered:
            fields = " ".join(self._field(k, extras[k]) for k in ordered)
            head, sep, tail = line.partition("\n")  # a traceback stays below the fields
            line = f"{head} | {fields}{sep}{tail}"
        return redact(line)


class _StdoutHandler(logging.StreamHandler[IO[str]]):
    """Writes to whatever ``sys.stdout`` is at the time, so each notebook cell shows its lines."""

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stdout)
        super().emit(record)


def _course_handlers(logger: logging.Logger) -> list[logging.Handler]:
    return [h for h in logger.handlers if getattr(h, "_course_handler", False)]


def setup_logging(
    level: int | str = "INFO",
    *,
    prompt_chars: int = DEFAULT_PROMPT_CHARS,
    full_prompts: bool = False,
    show_time: bool = True,
    stream: IO[str] | None = None,
) -> logging.Logger:
    """Configure and return the ``"course"`` logger; calling it again only updates the settings.

    ``stream`` defaults to the current standard output (a notebook cell's output). The logger
    does not propagate to the root logger, so a line never appears twice.
    """
    if isinstance(level, str):
        name = level.strip().upper()
        if not isinstance(logging.getLevelName(name), int):
            raise ValueError(
                f"setup_logging: unknown level {level!r}; use DEBUG, INFO, WARNING or ERROR"
            )
        level = name
    whole("prompt_chars", prompt_chars, meaning="how many characters of a prompt to show")
    logger = logging.getLogger(LOGGER_NAME)
    for old in _course_handlers(logger):  # idempotent: one course handler, the latest settings
        logger.removeHandler(old)
    handler: logging.Handler = (
        _StdoutHandler(sys.stdout) if stream is None else logging.StreamHandler(stream)
    )
    handler._course_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(_CourseFormatter(prompt_chars, full_prompts, show_time))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def get_logger(name: str | None = None) -> logging.Logger:
    """The course logger or one of its children (``get_logger("runner")`` → ``course.runner``)."""
    return logging.getLogger(LOGGER_NAME if not name else f"{LOGGER_NAME}.{name}")
