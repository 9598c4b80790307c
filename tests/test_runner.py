"""The prompt runner, tested as a learner runs it, against a real simulator over HTTP (a
``Simulator`` serving on a loopback port from a thread of this process), with
``COURSE_BACKEND=openai`` so the runner talks to it exactly as it would to the live API.

The runner itself runs in its own process (``python -m course_utils.runner``) where the process
is the point: a learner's whole run with its progress bar on real stdio, a ``kill -9``, a full
disk (a file-size limit on the process), and a run that holds the output's lock while a second
one is refused. Every other run calls the same ``main(argv)`` in this process (``run_cli_here``):
same argv, environment, streams and exit code, without starting a new interpreter each time.

Timing is never asserted here (bench/runner.py prints the rates); every test asserts what ends
up in the output file and the exit code.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest

from course_simulator import Simulator
from course_utils.results import Result
from course_utils.runner import (
    InputError,
    is_final,
    iter_prompts,
    read_results,
    scan_prompts,
)
from course_utils.runner.outputs import apply_resume, plan_resume

ROOT = Path(__file__).resolve().parents[1]
LEDGER = Path(tempfile.gettempdir()) / f"course-runner-tests-{os.getpid()}-spend.json"
SIM_KEY = "sim-test-key-runner"  # the key the test simulator demands (a fake, never a real one)
NOWHERE = "http://127.0.0.1:9/v1"  # for runs refused before anything is sent


# --- the simulator and the runs -----------------------------------------------------------------


@pytest.fixture
def simulator(make_sim: Callable[..., Simulator]) -> Callable[..., Simulator]:
    """A simulator of this test's own (limits, latency, faults), demanding ``SIM_KEY``."""
    return lambda **kwargs: make_sim(api_key=SIM_KEY, **kwargs)


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """One simulator for the tests that need no limits or faults of their own (faults they
    need come per request, through the X-Sim-Fault header in a .jsonl line)."""
    with Simulator(api_key=SIM_KEY) as sim:
        yield sim
    assert not sim.server_errors, sim.server_errors


def runner_env(url: str = NOWHERE, key: str = SIM_KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "COURSE_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        COURSE_BACKEND="openai",
        OPENAI_BASE_URL=url,
        OPENAI_API_KEY=key,
        COURSE_BUDGET_USD="1000",  # the live spend guard is on; these are simulator dollars
        COURSE_SPEND_LEDGER=str(LEDGER),  # ... counted in a ledger of the tests' own
    )
    return env


def runner_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "course_utils.runner", *args]


def run_runner(
    *args: str, url: str = NOWHERE, key: str = SIM_KEY, cwd: Path = ROOT, timeout: float = 90,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``python -m course_utils.runner`` in a process of its own, as a learner starts it."""
    return subprocess.run(
        runner_cmd(*args), env=runner_env(url, key), cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def run_cli_here(
    *args: str, url: str = NOWHERE, key: str = SIM_KEY
) -> subprocess.CompletedProcess[str]:
    """``main(argv)`` in this process, with the environment ``run_runner`` gives a process and a
    fresh spend guard; stdout, stderr and the exit code as ``subprocess.run`` reports them.
    A warning logged during the run lands in stderr too, as it would in a process of its own
    (Python's last-resort handler), not in pytest's log capture."""
    from course_utils import spend
    from course_utils.runner.cli import main

    out, err = io.StringIO(), io.StringIO()
    as_a_process_logs = logging.StreamHandler(err)
    as_a_process_logs.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(as_a_process_logs)
    try:
        with (
            unconfigured_course_loggers(),
            mock.patch.dict(os.environ, runner_env(url, key), clear=True),
            mock.patch.object(spend, "_guard", None),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = main(list(args))
            except SystemExit as exit:  # argparse's usage errors
                code = exit.code if isinstance(exit.code, int) else 2
    finally:
        root.removeHandler(as_a_process_logs)
    return subprocess.CompletedProcess(["main", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def unconfigured_course_loggers() -> Iterator[None]:
    """The ``course`` loggers as a new process has them (no handler, no level, propagating),
    then as they were: a test that called ``setup_logging()`` earlier in this worker left a
    handler that writes to whatever ``sys.stdout`` is, and a retry's INFO line reached the run's
    stdout (seen under load, when the simulator answered 429)."""
    manager = logging.Logger.manager
    names = ["course", *(n for n in list(manager.loggerDict) if n.startswith("course."))]
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.level, logger.propagate))
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    try:
        yield
    finally:
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def write_txt(path: Path, prompts: list[str]) -> Path:
    path.write_text("".join(p + "\n" for p in prompts), "utf-8")
    return path


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def assert_one_record_per_id(path: Path, ids: list[object]) -> list[dict]:
    recs = records(path)
    counts = Counter(r["id"] for r in recs)
    duplicated = {i: n for i, n in counts.items() if n > 1}
    assert not duplicated, f"duplicated ids: {duplicated}"
    assert set(counts) == set(ids), (
        f"lost: {set(ids) - set(counts)}, extra: {set(counts) - set(ids)}"
    )
    for r in recs:
        Result.from_dict(r)  # every line is a whole record of the shared schema
    return recs


# --- bad input: exit 2, a message with the line, nothing written --------------------------------


def _bad_inputs(tmp: Path) -> list[tuple[str, Path, list[str], str]]:
    """(case, prompts file, extra args, text the error must contain)."""
    cases = []
    empty = tmp / "empty.txt"
    empty.write_bytes(b"")
    cases.append(("empty file", empty, [], "is empty"))
    blank = tmp / "blank.txt"
    blank.write_text("\n   \n\t\n", "utf-8")
    cases.append(("only blank lines", blank, [], "every one is blank"))
    latin = tmp / "latin1.txt"
    latin.write_bytes("First prompt\nSecond prompt\nCaf\u00e9 prices?\n".encode("latin-1"))
    cases.append(("non-UTF-8 bytes", latin, [], "line 3: bytes that are not UTF-8"))
    broken = tmp / "broken.jsonl"
    broken.write_text('{"id": "a", "prompt": "One"}\n{"id": "b", "prompt": "Two"\n', "utf-8")
    cases.append(("malformed JSONL line", broken, [], "line 2: not valid JSON"))
    dupes = tmp / "dupes.jsonl"
    dupes.write_text(
        '{"id": "a", "prompt": "One"}\n{"id": "b", "prompt": "Two"}\n\n'
        '{"id": "a", "prompt": "Three"}\n',
        "utf-8",
    )
    cases.append(("duplicate ids", dupes, [], "line 4: the id 'a' is used again (first on line 1)"))
    typo = tmp / "typo.jsonl"
    typo.write_text('{"id": 1, "prompt": "One", "max_tokens": 50}\n', "utf-8")
    cases.append(("misspelt option", typo, [], "line 1: unknown key(s) 'max_tokens'"))
    no_id = tmp / "noid.jsonl"
    no_id.write_text('{"prompt": "One"}\n', "utf-8")
    cases.append(("no id", no_id, [], 'line 1: no "id"'))
    good = write_txt(tmp / "good.txt", ["One", "Two"])
    cases.append(("missing file", tmp / "nope.txt", [], "no such file"))
    csv = tmp / "prompts.csv"
    csv.write_text("a,b\n", "utf-8")
    cases.append(("wrong extension", csv, [], "must end in .txt"))
    cases.append(
        ("output under a file", good, ["-o", str(good / "out.jsonl")], "is a file, not a folder")
    )
    cases.append(("output in a missing folder", good, ["-o", str(tmp / "no" / "out.jsonl")],
                  "does not exist"))  # fmt: skip
    cases.append(("output is a folder", good, ["-o", str(tmp)], "is a folder"))
    cases.append(("output is the input", good, ["-o", str(good)], "is the prompts file itself"))
    link = tmp / "link.jsonl"
    os.link(good, link)  # another name for the same file: --overwrite would empty the input
    cases.append(("output is a hard link to the input", good, ["-o", str(link), "--overwrite"],
                  "is the prompts file itself"))  # fmt: skip
    for device in ("/dev/null", "/dev/full"):  # fsync fails on one, every write on the other
        cases.append((f"output is {device}", good, ["-o", device], "is not a regular file"))
    jsonl = {  # case -> (one .jsonl line, what the error says about line 1)
        "lone surrogate": ('{"id": 1, "prompt": "a\\ud800b"}', "holds '\\ud800'"),
        "5,000-digit id": (
            '{"id": ' + "7" * 5000 + ', "prompt": "One"}',
            "not valid JSON (a number too long to read",
        ),
        "max_output_tokens 1e22": (
            '{"id": 1, "prompt": "One", "max_output_tokens": 1' + "0" * 22 + "}",
            '"max_output_tokens" must be a whole number from 16 to',
        ),
        "header value with CR/LF": (
            '{"id": 1, "prompt": "One", "extra_headers": {"X-Note": "a\\r\\nb"}}',
            '"extra_headers" must be',
        ),
        "duplicate keys": (
            '{"id": 1, "prompt": "One", "prompt": "Two"}',
            "the key 'prompt' is given twice",
        ),
    }
    for case, (line, said) in jsonl.items():
        path = tmp / f"{case.replace(' ', '_').replace('/', '_')}.jsonl"
        path.write_text(line + "\n", "utf-8")
        cases.append((case, path, [], f"line 1: {said}"))
    cr = tmp / "cr.txt"
    cr.write_bytes(b"One\rTwo\rThree\r")
    cases.append(("CR-only line endings", cr, [], "line 1: holds a carriage return"))
    return cases


BAD_CASES = [  # the names of the cases _bad_inputs builds
    "empty file", "only blank lines", "non-UTF-8 bytes", "malformed JSONL line", "duplicate ids",
    "misspelt option", "no id", "missing file", "wrong extension", "output under a file",
    "output in a missing folder", "output is a folder", "output is the input",
    "output is a hard link to the input", "output is /dev/null", "output is /dev/full",
    "lone surrogate", "5,000-digit id", "max_output_tokens 1e22", "header value with CR/LF",
    "duplicate keys", "CR-only line endings",
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(tmp_path, case):
    cases = {c[0]: c for c in _bad_inputs(tmp_path)}
    _, prompts, extra, expected = cases[case]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    args = [str(prompts), *(extra or ["-o", str(tmp_path / "results.jsonl")]), "--no-progress"]
    done = run_cli_here(*args)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # nothing written, changed or created


def test_bad_flags_exit_2_with_the_usage_line(tmp_path):
    prompts = write_txt(tmp_path / "p.txt", ["One"])
    done = run_cli_here(str(prompts), "--rpm", "0", "-o", str(tmp_path / "r.jsonl"))
    assert done.returncode == 2
    assert "--rpm: must be >= 1, got 0" in done.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_an_existing_output_is_never_overwritten_by_accident(tmp_path):
    prompts = write_txt(tmp_path / "p.txt", ["One"])
    out = tmp_path / "r.jsonl"
    out.write_text("precious\n", "utf-8")
    done = run_cli_here(str(prompts), "-o", str(out), "--no-progress")
    assert done.returncode == 2
    assert "--resume" in done.stderr and "--overwrite" in done.stderr
    assert out.read_text("utf-8") == "precious\n"


def _result(id: object, ok: bool = True, error_type: str | None = None, prompt: str = "P") -> str:
    return Result(
        id=id, prompt=prompt, ok=ok, output="answer" if ok else None, error_type=error_type,
        message=None if ok else "what happened", attempts=1 if ok or error_type else 0,
        usage=None, latency_s=0.1,
    ).to_json()  # fmt: skip


def test_resume_refuses_an_output_with_a_garbage_line_and_leaves_it_alone(tmp_path):
    prompts = write_txt(tmp_path / "p.txt", ["One", "Two", "Three"])
    out = tmp_path / "r.jsonl"
    text = _result(1, prompt="One") + "\nnot json at all\n" + _result(3, prompt="Three") + "\n"
    out.write_text(text, "utf-8")
    done = run_cli_here(str(prompts), "-o", str(out), "--resume", "--no-progress")
    assert done.returncode == 2
    assert "line 2: is not a runner record" in done.stderr
    assert out.read_text("utf-8") == text


def test_resume_refuses_when_the_input_changed_under_the_same_ids(tmp_path):
    out = tmp_path / "r.jsonl"
    text = _result(1, prompt="One") + "\n"
    out.write_text(text, "utf-8")
    prompts = write_txt(tmp_path / "p.txt", ["A new first line", "One"])  # ids shifted
    done = run_cli_here(str(prompts), "-o", str(out), "--resume", "--no-progress")
    assert done.returncode == 2
    assert "the input changed since that run" in done.stderr
    assert out.read_text("utf-8") == text


def test_resume_refuses_a_last_line_it_did_not_write_and_leaves_it(tmp_path):
    prompts = write_txt(tmp_path / "p.txt", ["One", "Two"])
    out = tmp_path / "r.jsonl"
    text = _result(1, prompt="One") + "\nmy precious notes"  # no newline, not a record's start
    out.write_text(text, "utf-8")
    done = run_cli_here(str(prompts), "-o", str(out), "--resume", "--no-progress")
    assert done.returncode == 2, done.stderr
    assert "line 2: ends with a line the runner did not write" in done.stderr
    assert out.read_text("utf-8") == text


@pytest.mark.slow
def test_resume_over_an_output_with_other_ids_counts_only_this_input(tmp_path, shared_sim):
    prompts = write_txt(tmp_path / "p.txt", ["One", "Two", "Three"])
    out = tmp_path / "r.jsonl"
    kept = [_result(1, prompt="One"), _result(2, prompt="Two"), _result("x"), _result("y")]
    out.write_text("".join(k + "\n" for k in kept), "utf-8")
    done = run_cli_here(
        str(prompts), "-o", str(out), "--resume", "--no-progress", url=shared_sim.base_url
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "3 succeeded, 0 failed"
    assert "2 prompt(s) were already done" in done.stdout
    assert "2 record(s)" in done.stderr and "not counted here" in done.stderr
    assert {r["id"] for r in records(out)} == {1, 2, 3, "x", "y"}  # the others are kept


# --- reading input and planning a resume (in process: pure file handling) -----------------------


def test_txt_ids_are_line_numbers_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes(b"\xef\xbb\xbfFirst\r\n\r\n  Second  \n\nThird")  # BOM, CRLF, no last newline
    items = list(iter_prompts(path))
    assert [(i.id, i.prompt) for i in items] == [(1, "First"), (3, "Second"), (5, "Third")]
    assert scan_prompts(path).count == 3


def test_jsonl_options_are_checked_by_name_and_type(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"id": "a", "prompt": "One", "max_output_tokens": 40, "instructions": "Be brief."}\n'
        '{"id": 2, "prompt": "Two", "temperature": 5}\n',
        "utf-8",
    )
    items = iter_prompts(path)
    first = next(items)
    assert first.options == {"max_output_tokens": 40, "instructions": "Be brief."}
    with pytest.raises(InputError, match=r"line 2: \"temperature\" must be a number from 0 to 2"):
        next(items)


def test_reading_prompts_streams_the_file(tmp_path):
    """A generator: the first prompt arrives before a bad line far below is read."""
    path = tmp_path / "p.txt"
    path.write_bytes(b"Good\n" + b"filler\n" * 10_000 + b"\xff\xfe\n")
    items = iter_prompts(path)
    assert next(items).prompt == "Good"
    with pytest.raises(InputError, match="line 10002"):
        list(items)


def test_plan_resume_keeps_final_records_and_reruns_the_rest(tmp_path):
    out = tmp_path / "r.jsonl"
    lines = [
        _result(1),  # ok: kept
        _result(2, ok=False, error_type="bad_request"),  # about the prompt: kept
        _result(3, ok=False, error_type="server_error"),  # transient past retries: rerun
        _result(4, ok=False, error_type="quota"),  # not attempted after a quota stop: rerun
    ]
    out.write_text("\n".join(lines) + "\n", "utf-8")
    plan = plan_resume(out)
    assert set(plan.keep) == {"1", "2"}
    assert plan.rerun == 2 and not plan.torn_bytes
    apply_resume(plan)
    assert [r.id for r in read_results(out)] == [1, 2]


def test_a_torn_last_line_is_dropped_never_parsed(tmp_path):
    out = tmp_path / "r.jsonl"
    whole = _result(1) + "\n" + _result(2) + "\n"
    torn = _result(3)[:37]  # a crash cut the write short: no newline
    out.write_text(whole + torn, "utf-8")
    plan = plan_resume(out)
    assert set(plan.keep) == {"1", "2"} and plan.torn_bytes == len(torn.encode())
    assert "cut off" in plan.describe()[0]
    apply_resume(plan)
    assert out.read_text("utf-8") == whole


def test_a_whole_record_missing_only_its_newline_is_kept(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text(_result(1) + "\n" + _result(2), "utf-8")
    plan = plan_resume(out)
    assert set(plan.keep) == {"1", "2"} and plan.torn_kept
    apply_resume(plan)
    assert out.read_text("utf-8").endswith("\n") and len(read_results(out)) == 2


def test_is_final_follows_the_error_table():
    ok = Result.from_json(_result(1))
    assert is_final(ok)
    table = [("bad_request", True), ("context_length", True), ("rate_limit", False),
             ("timeout", False), ("auth", False)]  # fmt: skip
    for category, final in table:
        failed = Result.from_json(_result(1, ok=False, error_type=category))
        assert is_final(failed) is final, category


# --- runs against a real simulator process ------------------------------------------------------


def prompts_file(tmp: Path, n: int, name: str = "p.txt") -> tuple[Path, list[int]]:
    path = write_txt(tmp / name, [f"Explain idea number {i} in one sentence." for i in range(n)])
    return path, list(range(1, n + 1))


def test_a_run_writes_one_record_per_prompt_and_the_summary(tmp_path, shared_sim):
    sim = shared_sim
    shipped = ROOT / "course_utils" / "data" / "prompts.txt"
    out = tmp_path / "results.jsonl"
    done = run_runner(str(shipped), "-o", str(out), url=sim.base_url)  # progress bar on
    assert done.returncode == 0, done.stderr
    ids = [item.id for item in iter_prompts(shipped)]
    recs = assert_one_record_per_id(out, ids)
    assert all(r["ok"] and r["output"] and r["usage"]["input_tokens"] > 0 for r in recs)
    assert done.stdout.splitlines()[0] == f"{len(ids)} succeeded, 0 failed"
    assert "ok=24, failed=0, retrying=0" in done.stderr  # the progress bar's counts
    assert SIM_KEY not in done.stdout + done.stderr + out.read_text("utf-8")


@pytest.mark.slow
def test_an_in_process_run_prints_as_a_new_process_after_setup_logging(tmp_path, shared_sim):
    """run_cli_here's stdout holds only what the CLI prints, even after a test in this worker
    configured the course logger (its handler writes to whatever sys.stdout is)."""
    from course_utils.logs import setup_logging

    prompts = write_txt(tmp_path / "p.txt", ["Define jitter in one sentence."])
    with unconfigured_course_loggers():  # this test's setup_logging() is undone afterwards
        setup_logging("DEBUG")
        shared_sim.queue_faults(["rate_limit"])
        done = run_cli_here(str(prompts), "-o", str(tmp_path / "r.jsonl"), "--no-progress",
                            url=shared_sim.base_url)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("1 succeeded, 0 failed"), done.stdout


def test_fail_rate_loses_and_duplicates_nothing(tmp_path, simulator):
    sim = simulator(fail_rate=0.3, seed=5)
    prompts, ids = prompts_file(tmp_path, 60)
    out = tmp_path / "r.jsonl"
    done = run_cli_here(str(prompts), "-o", str(out), "--max-retries", "12", "--seed", "1",
                      "--no-progress", url=sim.base_url)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    recs = assert_one_record_per_id(out, ids)
    assert all(r["ok"] for r in recs)
    assert sum(r["attempts"] for r in recs) > len(ids)  # faults happened and were retried
    assert done.stdout.startswith("60 succeeded, 0 failed")


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_gives_exactly_one_record_per_id(tmp_path, simulator):
    sim = simulator(latency_ms=80)
    prompts, ids = prompts_file(tmp_path, 80)
    out = tmp_path / "r.jsonl"
    proc = subprocess.Popen(
        runner_cmd(str(prompts), "-o", str(out), "--concurrency", "4", "--no-progress"),
        env=runner_env(sim.base_url), cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 12:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed: slow it down"
    proc.kill()  # SIGKILL: no cleanup, no flush beyond what was already written
    proc.wait()
    written = records(out)
    assert 12 <= len(written) < len(ids)
    done = run_cli_here(str(prompts), "-o", str(out), "--resume", "--no-progress", url=sim.base_url)
    assert done.returncode == 0, done.stderr
    recs = assert_one_record_per_id(out, ids)
    assert all(r["ok"] for r in recs)
    assert f"{len(written)} prompt(s) were already done" in done.stdout


@pytest.mark.slow
def test_a_second_run_on_the_same_output_exits_2_naming_the_first(tmp_path, simulator):
    """The first run is stopped (SIGSTOP) once it has written a record: it holds the output's
    lock, mid-run, for as long as the second run takes, however slowly this machine starts it
    (a first run merely slowed down to outlast the second took 16 s). Then it carries on."""
    sim = simulator(latency_ms=400)
    prompts, ids = prompts_file(tmp_path, 10)
    out = tmp_path / "r.jsonl"
    first = subprocess.Popen(  # about 4 s: one request at a time
        runner_cmd(str(prompts), "-o", str(out), "--concurrency", "1", "--no-progress"),
        env=runner_env(sim.base_url), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out.exists() and out.read_bytes().count(b"\n")):
            time.sleep(0.02)
        first.send_signal(signal.SIGSTOP)
        assert first.poll() is None, "the first run ended before it was stopped: slow it down"
        assert len(records(out)) < len(ids)  # stopped mid-run
        second = run_cli_here(str(prompts), "-o", str(out), "--resume", "--no-progress",
                              url=sim.base_url)  # fmt: skip
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2, second.stdout + second.stderr
    assert "is in use by another run" in second.stderr
    assert f"process {first.pid} " in second.stderr
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert_one_record_per_id(out, ids)  # nothing written twice
    again = run_cli_here(str(prompts), "-o", str(out), "--resume", "--no-progress",
                         url=sim.base_url)  # fmt: skip
    assert again.returncode == 0 and again.stdout.startswith("10 succeeded, 0 failed")


@pytest.mark.slow
def test_a_line_the_spend_guard_refuses_is_a_failed_record_and_the_run_goes_on(
    tmp_path, shared_sim
):
    lines = [{"id": i, "prompt": f"Explain idea {i} in one sentence."} for i in range(6)]
    lines[2]["model"] = "gpt-unpriced-9"  # the live guard cannot price it: never sent
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    out = tmp_path / "r.jsonl"
    done = run_cli_here(str(prompts), "-o", str(out), "--no-progress", url=shared_sim.base_url)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    recs = {r["id"]: r for r in assert_one_record_per_id(out, list(range(6)))}
    refused = recs[2]
    assert not refused["ok"] and refused["error_type"] == "bad_request"
    assert refused["attempts"] == 0 and "gpt-unpriced-9" in refused["message"]
    assert all(recs[i]["ok"] for i in (0, 1, 3, 4, 5))  # the run went on
    assert done.stdout.startswith("5 succeeded, 1 failed")


def _no_bigger_than(size: int) -> Callable[[], None]:
    """A child process whose files cannot grow past ``size`` bytes: a full disk, for one run."""

    def limit() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write then fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.slow
def test_a_write_error_ends_with_a_message_and_resume_finishes(tmp_path, shared_sim):
    prompts, ids = prompts_file(tmp_path, 12)
    out = tmp_path / "r.jsonl"
    done = subprocess.run(
        runner_cmd(str(prompts), "-o", str(out), "--no-progress"),
        env=runner_env(shared_sim.base_url), cwd=ROOT, capture_output=True, text=True, timeout=90,
        preexec_fn=_no_bigger_than(3000),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot write the results" in done.stderr and "--resume" in done.stderr
    assert 0 < len(read_results(out)) < len(ids)
    again = run_cli_here(str(prompts), "-o", str(out), "--resume", "--no-progress",
                       url=shared_sim.base_url)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert_one_record_per_id(out, ids)


@pytest.mark.slow
def test_resume_repairs_a_torn_last_line(tmp_path, shared_sim):
    sim = shared_sim
    prompts, ids = prompts_file(tmp_path, 3)
    items = list(iter_prompts(prompts))
    out = tmp_path / "r.jsonl"
    whole = _result(1, prompt=items[0].prompt) + "\n"
    out.write_text(whole + _result(2, prompt=items[1].prompt)[:50], "utf-8")  # a torn write
    done = run_cli_here(str(prompts), "-o", str(out), "--resume", "--no-progress", url=sim.base_url)
    assert done.returncode == 0, done.stderr
    assert "its last line was cut off" in done.stderr
    recs = assert_one_record_per_id(out, ids)
    assert out.read_text("utf-8").startswith(whole)  # the good record is kept as it was
    assert recs[0]["id"] == 1


@pytest.mark.slow
def test_a_quota_error_stops_the_run_and_resume_finishes_it(tmp_path, shared_sim):
    sim = shared_sim
    lines = [{"id": f"q{i}", "prompt": f"Explain idea {i} in one sentence."} for i in range(30)]
    faulty = [dict(line) for line in lines]
    faulty[8]["extra_headers"] = {"X-Sim-Fault": "quota"}  # the account runs dry at prompt q8
    first = tmp_path / "run1.jsonl"
    first.write_text("".join(json.dumps(x) + "\n" for x in faulty), "utf-8")
    out = tmp_path / "r.jsonl"
    done = run_cli_here(str(first), "-o", str(out), "--concurrency", "2", "--no-progress",
                      url=sim.base_url)  # fmt: skip
    assert done.returncode == 1
    ids = [x["id"] for x in lines]
    recs = assert_one_record_per_id(out, ids)
    by_id = {r["id"]: r for r in recs}
    assert by_id["q8"]["error_type"] == "quota" and by_id["q8"]["attempts"] == 1
    skipped = [r for r in recs if r["attempts"] == 0]
    assert skipped, "nothing was recorded as not attempted"
    assert all(r["error_type"] == "quota" and "Not attempted" in r["message"] for r in skipped)
    assert sum(r["attempts"] for r in recs) <= 8 + 1 + 2  # stopped sending (2 were in flight)
    assert "quota: " in done.stdout and "stopped early after a quota error" in done.stdout
    # The account is fixed (the fault header is gone): --resume sends what is left.
    fixed = tmp_path / "run2.jsonl"
    fixed.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    done = run_cli_here(str(fixed), "-o", str(out), "--resume", "--no-progress", url=sim.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    recs = assert_one_record_per_id(out, ids)
    assert all(r["ok"] for r in recs)


@pytest.mark.slow
def test_a_rejected_key_stops_at_once_and_is_never_printed(tmp_path, shared_sim):
    sim = shared_sim
    prompts, ids = prompts_file(tmp_path, 12)
    out = tmp_path / "r.jsonl"
    wrong = "sim-wrong-key-0123456789"
    done = run_cli_here(str(prompts), "-o", str(out), "--no-progress", url=sim.base_url, key=wrong)
    assert done.returncode == 1
    recs = assert_one_record_per_id(out, ids)
    assert sum(r["attempts"] for r in recs) == 1  # the first answer was a 401: nothing more sent
    assert {r["error_type"] for r in recs} == {"auth"}
    text = done.stdout + done.stderr + out.read_text("utf-8")
    assert wrong not in text and SIM_KEY not in text


@pytest.mark.slow
def test_limits_are_learned_from_headers_and_paced_without_429s(tmp_path, simulator):
    # 100 RPM: the first 100 requests fit the server's burst, the rest must be paced.
    sim = simulator(rpm=100, tpm=1_000_000)
    prompts, ids = prompts_file(tmp_path, 104)
    out = tmp_path / "r.jsonl"
    done = run_cli_here(str(prompts), "-o", str(out), "--no-progress", url=sim.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    recs = assert_one_record_per_id(out, ids)
    assert all(r["attempts"] == 1 for r in recs), "a request was refused: pacing failed"
    assert "limits: 100 RPM, 1,000,000 TPM (learned from x-ratelimit-* headers)" in done.stdout
    assert "0 answered 429" in done.stdout
    # Straight away, a second run: the server's bucket is nearly empty now. The runner must
    # start from the allowance the first answer reports, not from a full bucket.
    time.sleep(1.0)
    more, more_ids = prompts_file(tmp_path, 4, "more.txt")
    done = run_cli_here(
        str(more), "-o", str(tmp_path / "r2.jsonl"), "--no-progress", url=sim.base_url
    )
    assert done.returncode == 0, done.stdout + done.stderr
    recs = assert_one_record_per_id(tmp_path / "r2.jsonl", more_ids)
    assert all(r["attempts"] == 1 for r in recs) and "0 answered 429" in done.stdout


LONG = " ".join(f"Sentence {i} explains one more detail about rate limits." for i in range(60))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "ok", "expected"),
    [
        ("chunk", True, "Chunked before sending"),
        ("truncate", True, "Truncated before sending"),
        ("fail", False, "Not sent: the request is"),
    ],
)
def test_on_long_prompts_are_handled_before_sending(tmp_path, shared_sim, mode, ok, expected):
    sim = shared_sim
    prompts = write_txt(tmp_path / "p.txt", ["A short question?", LONG])
    out = tmp_path / "r.jsonl"
    done = run_cli_here(str(prompts), "-o", str(out), "--on-long", mode, "--max-input-tokens",
                      "200", "--no-progress", url=sim.base_url)  # fmt: skip
    assert done.returncode == (0 if ok else 1), done.stderr
    recs = {r["id"]: r for r in assert_one_record_per_id(out, [1, 2])}
    assert recs[1]["ok"] and recs[1]["message"] is None
    long = recs[2]
    assert long["ok"] is ok and expected in long["message"]
    if mode == "chunk":
        parts = int(long["message"].split(" parts")[0].rsplit(" ", 1)[-1])
        assert parts >= 3 and long["attempts"] == parts
        assert long["output"].count("\n\n") >= parts - 1
        assert long["usage"]["input_tokens"] > 600  # every part was sent and billed
    elif mode == "truncate":
        assert long["attempts"] == 1 and long["usage"]["input_tokens"] <= 200
    else:
        assert long["error_type"] == "context_length" and long["attempts"] == 0
