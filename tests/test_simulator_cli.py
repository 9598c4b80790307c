"""``python -m course_simulator``: first line, a real SDK request, clean SIGTERM exit."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import openai
import pytest

from course_simulator.__main__ import build_parser
from course_utils.pricing import DEFAULT_MODEL

SECRET = "sk-cli-test-secret-0123456789"


@pytest.mark.slow
def test_cli_serves_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_simulator", "--port", "0", "--api-key", SECRET,
         "--rpm", "100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        m = re.fullmatch(r"Simulator listening on (http://127\.0\.0\.1:\d+/v1)\n", first)
        assert m, first
        client = openai.OpenAI(base_url=m.group(1), api_key=SECRET, max_retries=0)
        r = client.responses.create(model=DEFAULT_MODEL, input="Say hi in one sentence.")
        assert r.status == "completed"
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=m.group(1), api_key="wrong", max_retries=0).models.list()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert SECRET not in first + out + err
    assert "stopped" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-rate", "2"], "between 0 and 1"),
        (["--rpm", "0"], "must be > 0"),
        (["--port", "x"], "not a whole number"),
        (["--bogus"], "unrecognized arguments"),
        (["--hold-max-s", "0"], "seconds > 0"),
        (["--hold-max-s", "soon"], "not a number"),
    ],
)
def test_bad_flags_exit_2(args: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_bad_flag_in_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "course_simulator", "--latency-ms", "-5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--latency-ms" in proc.stderr and "must be >= 0" in proc.stderr


def test_hold_max_s_flag_defaults_to_30_and_parses() -> None:
    assert build_parser().parse_args([]).hold_max_s == 30.0
    assert build_parser().parse_args(["--hold-max-s", "1.5"]).hold_max_s == 1.5


def _start(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str, str]:
    import os

    proc = subprocess.Popen(
        [sys.executable, "-m", "course_simulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    first = proc.stdout.readline()  # type: ignore[union-attr]
    m = re.fullmatch(r"Simulator listening on (http://127\.0\.0\.1:\d+/v1)\n", first)
    if m is None:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"no URL line: {first!r} {out!r} {err!r}")
    second = proc.stdout.readline()  # type: ignore[union-attr]
    return proc, m.group(1), first + second


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["file", "env"])
def test_the_api_key_can_come_from_a_file_or_the_environment(tmp_path, how) -> None:
    """--api-key on the command line is visible to every local user through ps."""
    args, env = [], {}
    if how == "file":
        key_file = tmp_path / "key.txt"
        key_file.write_text(SECRET + "\n")  # a trailing newline, as editors write
        args = ["--api-key-file", str(key_file)]
    else:
        env = {"COURSE_SIM_API_KEY": SECRET}
    proc, url, printed = _start(args, env)
    try:
        assert SECRET not in " ".join(proc.args)  # type: ignore[arg-type]
        ok = openai.OpenAI(base_url=url, api_key=SECRET, max_retries=0)
        assert ok.models.list().data
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url, api_key="wrong", max_retries=0).models.list()
    finally:
        out, err = _stop(proc)
    assert SECRET not in printed + out + err and "one API key required" in printed


def test_help_says_where_the_key_can_come_from(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--api-key-file" in text and "COURSE_SIM_API_KEY" in text and "ps" in text
    assert "--max-connections" in text and "--read-timeout-s" in text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--api-key-file", "/no/such/file"], {}, "cannot be read"),
        (["--api-key", "a", "--api-key-file", "/x"], {}, "not allowed with"),
        (["--max-connections", "0"], {}, "must be > 0"),
        (["--read-timeout-s", "0"], {}, "seconds > 0"),
    ],
)
def test_bad_key_sources_and_bounds_exit_2(tmp_path, args, env, message) -> None:
    import os

    proc = subprocess.run(
        [sys.executable, "-m", "course_simulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


@pytest.mark.slow
def test_an_empty_key_file_is_refused(tmp_path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    proc = subprocess.run(
        [sys.executable, "-m", "course_simulator", "--api-key-file", str(empty)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "is empty" in proc.stderr
