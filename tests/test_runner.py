"""The prompt runner, tested as a learner runs it: ``python -m course_utils.runner`` in its own
process against a real simulator process (``python -m course_utils.simulator --port 0``), with
``COURSE_BACKEND=openai`` so the runner talks to it exactly as it would to the live API.

Timing is never asserted here (bench/runner.py prints the rates); every test asserts what ends
up in the output file and the exit code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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
SIM_KEY = "sim-test-key-runner"  # the key the test simulator demands (a fake, never a real one)


# --- processes --------------------------------------------------------------------------------


class SimProcess:
    """A simulator in its own process; ``url`` from the first line it prints."""

    def __init__(self, *flags: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "course_utils.simulator", "--port", "0", "--api-key", SIM_KEY,
             *flags],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("Simulator listening on "):
            self.stop()
            raise RuntimeError(f"the simulator did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.rsplit(" ", 1)[-1]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def simulator() -> Iterator[Callable[..., SimProcess]]:
    """Start ``python -m course_utils.simulator`` with the given flags; stopped afterwards."""
    started: list[SimProcess] = []

    def start(*flags: str) -> SimProcess:
        sim = SimProcess(*flags)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def runner_env(url: str = "http://127.0.0.1:9/v1", key: str = SIM_KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "COURSE_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        COURSE_BACKEND="openai",
        OPENAI_BASE_URL=url,
        OPENAI_API_KEY=key,
        COURSE_BUDGET_USD="1000",  # the live spend guard is on; these are simulator dollars
    )
    return env


def runner_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "course_utils.runner", *args]


def run_runner(
    *args: str, url: str = "http://127.0.0.1:9/v1", key: str = SIM_KEY, cwd: Path = ROOT,
    timeout: float = 90,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        runner_cmd(*args), env=runner_env(url, key), cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


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
    return cases


BAD_CASES = [  # the names of the cases _bad_inputs builds
    "empty file", "only blank lines", "non-UTF-8 bytes", "malformed JSONL line", "duplicate ids",
    "misspelt option", "no id", "missing file", "wrong extension", "output under a file",
    "output in a missing folder", "output is a folder", "output is the input",
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(tmp_path, case):
    cases = {c[0]: c for c in _bad_inputs(tmp_path)}
    _, prompts, extra, expected = cases[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    args = [str(prompts), *(extra or ["-o", str(tmp_path / "results.jsonl")]), "--no-progress"]
    done = run_runner(*args)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written or created


def test_bad_flags_exit_2_with_the_usage_line(tmp_path):
    prompts = write_txt(tmp_path / "p.txt", ["One"])
    done = run_runner(str(prompts), "--rpm", "0", "-o", str(tmp_path / "r.jsonl"))
    assert done.returncode == 2
    assert "--rpm: must be >= 1, got 0" in done.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_an_existing_output_is_never_overwritten_by_accident(tmp_path):
    prompts = write_txt(tmp_path / "p.txt", ["One"])
    out = tmp_path / "r.jsonl"
    out.write_text("precious\n", "utf-8")
    done = run_runner(str(prompts), "-o", str(out), "--no-progress")
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
    done = run_runner(str(prompts), "-o", str(out), "--resume", "--no-progress")
    assert done.returncode == 2
    assert "line 2: is not a runner record" in done.stderr
    assert out.read_text("utf-8") == text


def test_resume_refuses_when_the_input_changed_under_the_same_ids(tmp_path):
    out = tmp_path / "r.jsonl"
    text = _result(1, prompt="One") + "\n"
    out.write_text(text, "utf-8")
    prompts = write_txt(tmp_path / "p.txt", ["A new first line", "One"])  # ids shifted
    done = run_runner(str(prompts), "-o", str(out), "--resume", "--no-progress")
    assert done.returncode == 2
    assert "the input changed since that run" in done.stderr
    assert out.read_text("utf-8") == text


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
