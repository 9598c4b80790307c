"""course_utils.logs: plain stdout lines with the structured fields, no key, no whole prompt."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from course_utils import logs
from course_utils.logs import FIELDS, get_logger, redact, setup_logging


@pytest.fixture(autouse=True)
def _fresh_course_logger() -> Iterator[None]:
    logger = logging.getLogger(logs.LOGGER_NAME)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


def test_lines_go_to_stdout_not_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    log = setup_logging(show_time=False)
    log.info("sent", extra={"operation": "responses.create", "attempt": 1})
    out, err = capsys.readouterr()
    assert out == "INFO sent | operation=responses.create attempt=1\n"
    assert err == ""


def test_fields_in_fixed_order_then_extras_as_given() -> None:
    buf = io.StringIO()
    log = setup_logging(show_time=False, stream=buf)
    log.warning(
        "retrying",
        extra={
            "wait_s": 1.25,
            "request_id": "req_abc",
            "error_type": "rate_limit",
            "attempt": 2,
            "model": "gpt-4o-mini",
            "operation": "responses.create",
            "status": 429,
        },
    )
    assert buf.getvalue() == (
        "WARNING retrying | operation=responses.create model=gpt-4o-mini attempt=2 "
        "error_type=rate_limit request_id=req_abc wait_s=1.25 status=429\n"
    )
    assert FIELDS == ("operation", "model", "attempt", "error_type", "request_id")


def test_time_prefix_by_default() -> None:
    buf = io.StringIO()
    setup_logging(stream=buf).info("hello")
    stamp, level, message = buf.getvalue().split()
    assert len(stamp) == 8 and stamp.count(":") == 2
    assert (level, message) == ("INFO", "hello")


def test_idempotent_one_handler_latest_settings() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging(stream=first)
    log = setup_logging("WARNING", stream=second, show_time=False)
    assert log is logging.getLogger("course")
    assert sum(getattr(h, "_course_handler", False) for h in log.handlers) == 1
    log.info("hidden")
    log.warning("shown")
    assert first.getvalue() == ""
    assert second.getvalue() == "WARNING shown\n"
    assert log.propagate is False


def test_children_share_the_handler() -> None:
    buf = io.StringIO()
    setup_logging(stream=buf, show_time=False)
    get_logger("runner").info("done", extra={"request_id": "req_1"})
    assert get_logger().name == "course"
    assert buf.getvalue() == "INFO done | request_id=req_1\n"


def test_prompt_is_a_preview_unless_asked() -> None:
    prompt = "Summarise the following report in three bullet points: " + "x" * 500
    buf = io.StringIO()
    log = setup_logging(stream=buf, show_time=False, prompt_chars=20)
    log.info("sent", extra={"prompt": prompt})
    line = buf.getvalue()
    assert "prompt='Summarise the follow… (555 chars)'" in line
    assert "x" * 30 not in line

    buf = io.StringIO()
    setup_logging(stream=buf, show_time=False, full_prompts=True).info(
        "s", extra={"prompt": prompt}
    )
    assert prompt in buf.getvalue()


def test_short_prompt_is_shown_whole() -> None:
    buf = io.StringIO()
    setup_logging(stream=buf, show_time=False).info("s", extra={"prompt": "Say hi"})
    assert buf.getvalue() == "INFO s | prompt='Say hi'\n"


def test_keys_never_reach_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    env_key = "env-secret-value-123456"
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    buf = io.StringIO()
    log = setup_logging(stream=buf, show_time=False)
    log.error("auth failed for sk-proj-abcdefghijkl", extra={"api_key": "anything"})
    log.error("header was Bearer abc.def")
    log.error(f"the env key {env_key} leaked")
    try:
        raise RuntimeError("boom sk-live-0123456789")
    except RuntimeError:
        log.exception("with traceback")
    out = buf.getvalue()
    for secret in ("sk-proj-abcdefghijkl", "anything", "abc.def", env_key, "sk-live-0123456789"):
        assert secret not in out
    assert out.count("[redacted]") >= 5
    assert "Traceback" in out  # the traceback itself stays, below the line


def test_redact_leaves_ordinary_text_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "abc")  # too short to redact safely
    assert redact("a basic task-list") == "a basic task-list"
    assert redact("key sk-abcdef123") == "key [redacted]"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"level": "LOUD"}, "unknown level 'LOUD'"),
        ({"prompt_chars": -1}, "prompt_chars"),
        ({"prompt_chars": 2.5}, "whole number"),
    ],
)
def test_bad_settings_fail_clearly(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        setup_logging(**kwargs)  # type: ignore[arg-type]


def test_level_names_are_case_insensitive_and_ints_work() -> None:
    assert setup_logging("debug").level == logging.DEBUG
    assert setup_logging(logging.ERROR).level == logging.ERROR


def test_values_with_spaces_are_quoted_and_floats_short() -> None:
    buf = io.StringIO()
    setup_logging(stream=buf, show_time=False).info(
        "x", extra={"message_text": "two words", "latency_s": 0.123456, "big": 12345.6}
    )
    assert buf.getvalue() == "INFO x | message_text='two words' latency_s=0.123 big=12346\n"
