"""The mini project's homework (lesson 05): save results to JSON, fit a large input before
sending it, and run a text file of prompts safely (the core of a CLI).

The other two homework items of the lesson plan are checked where they belong: a ``style=``
parameter in Exercise 1 (``generate_in_style``) and retry timestamps in Exercise 2's log.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_utils.pricing import DEFAULT_MODEL
from course_utils.prompting import load_long_document
from course_utils.tokens import count_tokens

from .authoring import (
    Incorrect,
    LearnerRun,
    SimRun,
    check_simulator,
    describe_exception,
    exercise,
    run_learner,
    run_on_simulator,
    same,
    shown,
)

__all__ = [
    "FILE_HINTS",
    "FILE_RULES",
    "FIT_HINTS",
    "FIT_RULES",
    "SAVE_HINTS",
    "SAVE_RULES",
    "SOLUTION_NOTEBOOK",
    "check_fit_prompt",
    "check_run_prompt_file",
    "check_save_results",
]

SOLUTION_NOTEBOOK = "05_runner_homework.ipynb"
RESULT_FIELDS = ("id", "prompt", "ok", "output", "error_type", "message", "attempts")

# --- save_results -------------------------------------------------------------------------------

SAVE_RULES = (
    "write a JSON list that reads back equal",
    "keep non-ASCII text readable",
    "replace the file, never leave half of one",
)
SAVE_HINTS = (
    "Open the file for writing (`open(path, 'w', encoding='utf-8')`) and `json.dump(results, "
    "f)`: the file then holds one JSON list, and `json.load` gives back the same list of dicts.",
    "`json.dump` escapes every non-ASCII character (é becomes \\u00e9) unless you pass "
    "`ensure_ascii=False`; write the file as UTF-8 so 'café ☕' stays 'café ☕'.",
    "Write to a temporary file next to the target (`path.with_name(path.name + '.tmp')`), then "
    "`os.replace(tmp, path)`: the rename is atomic, so a failure while writing (a value "
    "`json.dump` cannot serialise) leaves the previous file untouched. Delete the temporary file "
    "if writing fails.",
)


def _sample_results() -> list[dict[str, Any]]:
    return [
        {"id": 1, "prompt": "Café prices? ☕", "ok": True, "output": "About 3 € — très bien.",
         "error_type": None, "message": None, "attempts": 1,
         "usage": {"input_tokens": 12, "output_tokens": 9}, "latency_s": 0.8},
        {"id": 2, "prompt": "Explain jitter.", "ok": False, "output": None,
         "error_type": "rate_limit", "message": "Too many requests; retried 3 times.",
         "attempts": 4, "usage": None, "latency_s": 7.25},
    ]  # fmt: skip


def _read_json(path: Path, name: str, rule: int) -> Any:
    if not path.is_file():
        raise Incorrect(f"`{name}` wrote no file at the path it was given.", rule=rule)
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise Incorrect(
            f"`{name}` wrote a file that `json.load` cannot read ({describe_exception(err)}): "
            f"it starts {shown(raw[:40])}.",
            rule=rule,
        ) from None


def _said(run: LearnerRun) -> str:
    return describe_exception(run.error) if run.error is not None else "no error"


def _call_save(fn: Callable[..., Any], results: Any, path: Path) -> LearnerRun:
    return run_learner(fn, results, path)


@exercise("save_results", rules=SAVE_RULES, hints=SAVE_HINTS, solution_notebook=SOLUTION_NOTEBOOK)
def check_save_results(fn: Callable[..., Any]) -> str:
    """Round trip, readable UTF-8, and an atomic replace that survives a failed save."""
    with tempfile.TemporaryDirectory(prefix="check-save-") as folder:
        path = Path(folder) / "results.json"
        first = _sample_results()
        run = _call_save(fn, first, path)
        run.raise_unexpected()
        name = run.fn_name
        saved = _read_json(path, name, 1)
        if not isinstance(saved, list):
            raise Incorrect(
                f"`{name}` saved a JSON {type(saved).__name__}; save the results as one JSON "
                "list (one object per result).",
                rule=1,
            )
        if saved != first:
            raise Incorrect(
                f"`{name}` saved {shown(saved)}, which does not read back equal to the results "
                "it was given.",
                rule=1,
            )
        if "Café prices? ☕".encode() not in path.read_bytes():
            raise Incorrect(
                f"`{name}` wrote 'Café prices? ☕' as escape codes (\\u00e9...), or not as UTF-8; "
                "a reader opening the file sees codes instead of the text.",
                rule=2,
            )
        second = first[1:]
        run = _call_save(fn, second, path)
        run.raise_unexpected()
        replaced = _read_json(path, name, 3)
        if replaced != second:
            raise Incorrect(
                f"Saving a second, shorter list to the same path left {shown(replaced)}; a save "
                "should replace the file with exactly the new list.",
                rule=3,
            )
        broken = [*second, {"id": 3, "prompt": "x", "ok": True, "output": object()}]
        run = _call_save(fn, broken, path)
        if not run.raised:
            raise Incorrect(
                f"`{name}` returned normally for a result holding an object JSON cannot store; "
                "let the error reach the caller so a failed save is never mistaken for a saved "
                "one.",
                rule=3,
            )
        try:
            after = json.loads(path.read_text("utf-8")) if path.is_file() else None
        except ValueError:
            after = "half a file"
        if after != second:
            raise Incorrect(
                f"A save that failed half-way ({_said(run)}) left the file "
                f"as {shown(after)} instead of the previous, complete list: a crash while "
                "saving loses the results you had.",
                rule=3,
            )
    return "The list reads back equal, stays readable, and a failed save keeps the old file."


# --- fit_prompt ---------------------------------------------------------------------------------

FIT_RULES = (
    "leave a prompt that fits alone",
    "return text within max_input_tokens",
    "never cut a word in half",
    "send only requests that fit",
)
FIT_HINTS = (
    "First `count_tokens(prompt, model)`; if it is at most `max_input_tokens`, return the prompt "
    "as it is, without calling the API.",
    "`truncate_to_tokens(prompt, max_input_tokens, model)` returns the longest start that fits; "
    "if you summarise instead, check the summary's length with `count_tokens` and cut it too if "
    "needed. The result must not be empty.",
    "After truncating, step back to the last whitespace (`text[: text.rstrip().rfind(' ')]` or "
    "`text.rsplit(maxsplit=1)[0]`) unless the cut already fell between words; a marker such as "
    "' […]' at the end is fine if the total still fits.",
    "If you summarise with the model, split the text first (`chunk_text(prompt, budget, model)`, "
    "with the budget less a few hundred tokens for your instruction and the chat wrapper) and "
    "summarise each chunk: a request holding the whole long text would be refused (or cost a "
    "fortune) for the same reason the prompt needed fitting.",
)
FIT_BUDGET = 400
_MARKERS = re.compile(r"\s*(\[…\]|\[\.\.\.\]|…|\.\.\.|\[truncated\])\s*$")


@exercise("fit_prompt", rules=FIT_RULES, hints=FIT_HINTS, solution_notebook=SOLUTION_NOTEBOOK)
def check_fit_prompt(fn: Callable[..., Any]) -> str:
    """A short prompt untouched; the long document within budget, whole words, fitting requests."""
    short = "Explain in one sentence what a context window is."
    document = load_long_document()
    with check_simulator() as sim:
        run = run_on_simulator(sim, fn, short, max_input_tokens=FIT_BUDGET)
        run.raise_unexpected()
        name = run.fn_name
        if not same(run.value, short):
            raise Incorrect(
                f"`{name}` changed a {count_tokens(short)}-token prompt that fits the "
                f"{FIT_BUDGET}-token budget into {shown(run.value)}.",
                rule=1,
            )
        if run.attempts:
            raise Incorrect(
                f"`{name}` sent {run.attempts} request(s) for a prompt that already fits; "
                "check its size first and send nothing.",
                rule=1,
            )
        run = run_on_simulator(sim, fn, document, max_input_tokens=FIT_BUDGET)
        run.raise_unexpected()
        fitted = run.value
        if not isinstance(fitted, str) or not fitted.strip():
            raise Incorrect(
                f"`{name}` returned {shown(fitted)} for a long document; return the text to "
                "send (a str that is not empty).",
                rule=2,
            )
        used = count_tokens(fitted, DEFAULT_MODEL)
        if used > FIT_BUDGET:
            raise Incorrect(
                f"`{name}` returned {used:,} tokens for a budget of {FIT_BUDGET} (the document "
                f"has {count_tokens(document):,}).",
                rule=2,
            )
        _judge_cut(name, fitted, document)
        _judge_requests(run)
    how = "summarised it" if run.attempts else "truncated it"
    return f"The long document now fits ({used} of {FIT_BUDGET} tokens); you {how}."


def _judge_cut(name: str, fitted: str, document: str) -> None:
    """Rule 3, for a truncation (the result is a start of the document, maybe with a marker)."""
    kept = _MARKERS.sub("", fitted).rstrip()
    if not kept or not document.startswith(kept):
        return  # not a truncation (a summary): words are the model's own
    after = document[len(kept) : len(kept) + 1]
    if after and not (after.isspace() or not after.isalnum()):
        word = document[: len(kept) + 20].split()[len(kept.split()) - 1]
        raise Incorrect(
            f"`{name}` cut the document in the middle of the word {word!r} (it ends "
            f"{shown(kept[-30:])}).",
            rule=3,
        )


def _judge_requests(run: SimRun) -> None:
    too_big = [r.input_tokens for r in run.responses if (r.input_tokens or 0) > FIT_BUDGET]
    if too_big:
        raise Incorrect(
            f"`{run.fn_name}` sent request(s) of {', '.join(f'{t:,}' for t in too_big)} input "
            f"tokens while fitting a text to {FIT_BUDGET}; summarise it in parts that fit.",
            rule=4,
        )
    failed = [r for r in run.responses if r.status != 200]
    if failed:
        raise Incorrect(
            f"`{run.fn_name}`'s request(s) came back with status "
            f"{', '.join(str(r.status) for r in failed)} while fitting the text.",
            rule=4,
        )


# --- run_prompt_file ----------------------------------------------------------------------------

FILE_RULES = (
    "one prompt a line, blank lines skipped",
    "write one JSON line per prompt",
    "retry transient errors only",
    "return 0, 1 or 2",
)
FILE_HINTS = (
    "Read the file line by line (`for number, line in enumerate(open(path, encoding='utf-8'), "
    "start=1)`), strip each line, and skip the empty ones; send each remaining line as one "
    "prompt, in order.",
    "Open the output once for writing and, after each prompt, `f.write(json.dumps(record) + "
    "'\\n')` then `f.flush()`: one line per prompt with at least id (its line number), prompt, "
    "ok, output, error_type, message and attempts. `Result.from_response(...).to_dict()` and "
    "`Result.from_error(...).to_dict()` build such records.",
    "Catch `openai.APIError`; retry only when `classify(err).retriable`, calling the injected "
    "`sleep(...)` before each retry (at most `max_retries` retries); record any other error "
    "once, with `classify(err).category` as error_type, and go on with the next prompt.",
    "Return 2 before sending anything (and without creating the output) when the file is missing "
    "or holds no prompt; otherwise 0 when every prompt succeeded and 1 when any failed, the "
    "exit codes a shell or a scheduler reads.",
)
FILE_LINES = [
    "Explain tokens in one sentence.",
    "",
    "What is a rate limit? One sentence.",
    "   ",
    "Why add jitter to retries? One sentence.",
    "What does a 400 error mean? One sentence.",
]
FILE_PROMPTS = {1: FILE_LINES[0], 3: FILE_LINES[2], 5: FILE_LINES[4], 6: FILE_LINES[5]}
# Arrival order: prompt 1 ok; prompt 3 gets a 500 then ok; prompt 5 ok; prompt 6 a 400.
FILE_FAULTS = [None, "server_error", None, None, "bad_request"]


def _file_run(
    sim: Any, fn: Callable[..., Any], folder: Path, lines: list[str] | None, faults: list[Any]
) -> tuple[SimRun, Path]:
    path = folder / "prompts.txt"
    if lines is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text("".join(line + "\n" for line in lines), "utf-8")
    out = folder / "results.jsonl"
    out.unlink(missing_ok=True)
    run = run_on_simulator(sim, fn, path, out, faults=faults, record_sleep=True, max_retries=3)
    return run, out


def _records(run: SimRun, out: Path) -> list[dict[str, Any]]:
    name = run.fn_name
    if not out.is_file():
        raise Incorrect(f"`{name}` created no output file.", rule=2)
    records = []
    for number, line in enumerate(out.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise Incorrect(
                f"Line {number} of the output is not JSON: {shown(line)}; write one "
                "`json.dumps(record)` per line.",
                rule=2,
            ) from None
        if not isinstance(record, dict):
            raise Incorrect(
                f"Line {number} of the output is {shown(record)}, not an object.", rule=2
            )
        missing = [k for k in RESULT_FIELDS if k not in record]
        if missing:
            raise Incorrect(
                f"Line {number} of the output lacks {', '.join(missing)}; each record needs "
                f"{', '.join(RESULT_FIELDS)}.",
                rule=2,
            )
        records.append(record)
    return records


@exercise(
    "run_prompt_file", rules=FILE_RULES, hints=FILE_HINTS, solution_notebook=SOLUTION_NOTEBOOK
)
def check_run_prompt_file(fn: Callable[..., Any]) -> str:
    """A file with blank lines and scripted faults; then a clean run; then bad files."""
    with check_simulator() as sim, tempfile.TemporaryDirectory(prefix="check-file-") as tmp:
        folder = Path(tmp)
        run, out = _file_run(sim, fn, folder, FILE_LINES, FILE_FAULTS)
        run.raise_unexpected()
        name = run.fn_name
        records = _records(run, out)
        sent = {r.get("prompt") for r in records}
        if sent != set(FILE_PROMPTS.values()):
            raise Incorrect(
                f"`{name}` recorded the prompts {shown(sorted(map(str, sent)), 120)}; expected one "
                f"for each of the {len(FILE_PROMPTS)} non-blank lines, each line stripped.",
                rule=1,
            )
        if len(records) != len(FILE_PROMPTS):
            raise Incorrect(
                f"`{name}` wrote {len(records)} records for {len(FILE_PROMPTS)} prompts; write "
                "exactly one per prompt.",
                rule=2,
            )
        by_prompt = {r["prompt"]: r for r in records}
        ids = {by_prompt[p]["id"]: p for p in FILE_PROMPTS.values()}
        if ids != FILE_PROMPTS:
            raise Incorrect(
                f"`{name}` gave the ids {shown(sorted(ids, key=str))}; each record's id should be "
                f"its prompt's line number in the file ({sorted(FILE_PROMPTS)}; blank lines "
                "count).",
                rule=2,
            )
        retried, bad = by_prompt[FILE_PROMPTS[3]], by_prompt[FILE_PROMPTS[6]]
        if retried["ok"] is not True or retried["attempts"] != 2:
            raise Incorrect(
                f"The prompt that met a 500 once came back ok={retried['ok']!r} after "
                f"attempts={retried['attempts']!r}; a 500 is transient: retry it (2 attempts).",
                rule=3,
            )
        if bad["ok"] is not False or bad["error_type"] != "bad_request" or bad["attempts"] != 1:
            raise Incorrect(
                f"The prompt refused with a 400 came back ok={bad['ok']!r}, error_type="
                f"{bad['error_type']!r}, attempts={bad['attempts']!r}; a 400 is permanent: record "
                "it once, with error_type 'bad_request', and go on.",
                rule=3,
            )
        if len(run.delays) != 1 or not all(
            isinstance(d, int | float) and d > 0 for d in run.delays
        ):
            raise Incorrect(
                f"`{name}` called `sleep` with {shown(run.delays)} for one retry; wait once, a "
                "number of seconds above 0, before the retry.",
                rule=3,
            )
        if not same(run.value, 1):
            raise Incorrect(
                f"`{name}` returned {shown(run.value)} when one prompt failed; return 1.", rule=4
            )
        run, out = _file_run(sim, fn, folder, FILE_LINES, [])
        run.raise_unexpected()
        if not same(run.value, 0):
            raise Incorrect(
                f"`{name}` returned {shown(run.value)} when every prompt succeeded; return 0.",
                rule=4,
            )
        for label, lines in (("a missing file", None), ("a file of blank lines", ["", "  "])):
            run, out = _file_run(sim, fn, folder, lines, [])
            run.raise_unexpected(allowed=(OSError,))
            if run.raised:
                raise Incorrect(
                    f"`{name}` raised {_said(run)} for {label}; return 2 "
                    "instead, so a script can tell bad input from failed prompts.",
                    rule=4,
                )
            if not same(run.value, 2) or out.exists() or run.attempts:
                raise Incorrect(
                    f"For {label} `{name}` returned {shown(run.value)}"
                    f"{', created the output' if out.exists() else ''}"
                    f"{', sent requests' if run.attempts else ''}; return 2 and write nothing.",
                    rule=4,
                )
    return "Blank lines skipped, one record per prompt, transient errors retried, exit codes right."
