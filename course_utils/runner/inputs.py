"""Reading prompts: .txt (one a line) or .jsonl (one object a line), streamed and validated.

Every problem is an ``InputError`` that names the file and the line, found before anything is
sent (``scan_prompts`` reads the whole file once; ``iter_prompts`` reads it again for the run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import CourseError
from ..pricing import list_models

__all__ = [
    "MIN_OUTPUT_TOKENS",
    "REQUEST_OPTIONS",
    "InputError",
    "InputScan",
    "PromptItem",
    "items_from_memory",
    "iter_prompts",
    "prompt_digest",
    "scan_prompts",
]

MIN_OUTPUT_TOKENS = 16  # the Responses API refuses a smaller max_output_tokens
# No model in the catalogue writes more; a line's own model may allow less (checked at run time)
MAX_OUTPUT_TOKENS_ANY = max(m.max_output for m in list_models())

# Per-prompt request options a .jsonl line may set, and what each must be.
REQUEST_OPTIONS: dict[str, str] = {
    "model": "a model id (string)",
    "instructions": "a string",
    "max_output_tokens": f"a whole number from {MIN_OUTPUT_TOKENS} to {MAX_OUTPUT_TOKENS_ANY:,}",
    "temperature": "a number from 0 to 2",
    "top_p": "a number from 0 to 1",
    "metadata": "an object of strings",
    "reasoning": 'an object such as {"effort": "low"}',
    "text": 'an object such as {"verbosity": "low"}',
    "extra_headers": "an object of header names to string values",
}


class InputError(CourseError, ValueError):
    """The prompts file, the output path or a setting cannot be used (exit code 2).

    The message names the file and, where there is one, the line.
    """

    def __init__(self, problem: str, *, path: Path | None = None, line: int | None = None):
        self.problem, self.path, self.line = problem, path, line
        where = "" if path is None else f"{path}" + (f", line {line}" if line else "") + ": "
        super().__init__(where + problem)


@dataclass(frozen=True)
class PromptItem:
    """One prompt to run: its id (a line number for .txt), its text and its request options."""

    id: str | int
    prompt: str
    options: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None

    @property
    def key(self) -> str:
        """The id as the runner matches it (``7`` and ``"7"`` are the same prompt)."""
        return str(self.id)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return "txt"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise InputError(
        f"the prompts file must end in .txt (one prompt a line) or .jsonl (one JSON object a "
        f'line: {{"id": ..., "prompt": ...}}), got {suffix or "no extension"!r}',
        path=path,
    )


@contextlib.contextmanager
def _open_input(path: Path) -> Iterator[IO[bytes]]:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; bytes so a bad line is found
    except FileNotFoundError:
        raise InputError(
            "no such file; check the path (relative to the current folder)", path=path
        ) from None
    except IsADirectoryError:
        raise InputError("is a folder; give the prompts file inside it", path=path) from None
    except OSError as err:
        raise InputError(f"cannot be read ({err.strerror})", path=path) from None
    with handle:
        yield handle


def _decode(raw: bytes, path: Path, number: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = raw[err.start : err.start + 4]
        raise InputError(
            f"bytes that are not UTF-8 at character {err.start + 1} ({bad!r}); save the file as "
            "UTF-8 (in most editors: Save As, then Encoding: UTF-8) and run again",
            path=path,
            line=number,
        ) from None
    if number == 1:
        text = text.removeprefix("\ufeff")  # a byte-order mark some editors write first
    text = text.rstrip("\r\n")
    if "\r" in text:
        raise InputError(
            "holds a carriage return (\\r) inside the line: the file seems to use old Mac line "
            "endings, which would run several prompts as one. Save it with Unix (LF) or Windows "
            "(CRLF) line endings",
            path=path,
            line=number,
        )
    return text


_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token (RFC 9110)


def _check_option(name: str, value: Any) -> bool:
    if name == "model":
        return isinstance(value, str) and bool(value.strip())
    if name == "instructions":
        return isinstance(value, str)
    if name == "max_output_tokens":
        return type(value) is int and MIN_OUTPUT_TOKENS <= value <= MAX_OUTPUT_TOKENS_ANY
    if name in ("temperature", "top_p"):
        top = 2 if name == "temperature" else 1
        return type(value) in (int, float) and 0 <= value <= top
    if name == "metadata":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if name == "extra_headers":  # a CR or LF would split the header: never sendable
        return isinstance(value, dict) and all(
            _HEADER_NAME.match(k) and isinstance(v, str) and not set(v) & {"\r", "\n", "\0"}
            for k, v in value.items()
        )
    return isinstance(value, dict)  # reasoning, text: the API checks their contents


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKey(key)
        data[key] = value
    return data


class _DuplicateKey(ValueError):
    pass


def _lone_surrogate(value: Any) -> str | None:
    """A string inside ``value`` that is not valid Unicode text (a lone surrogate), if any."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            return repr(value[err.start : err.end])
        return None
    parts = [*value, *value.values()] if isinstance(value, dict) else value
    for part in parts if isinstance(parts, list) else ():
        found = _lone_surrogate(part)
        if found:
            return found
    return None


def _jsonl_item(text: str, path: Path, number: int) -> PromptItem:
    def bad(problem: str) -> InputError:
        return InputError(problem, path=path, line=number)

    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as err:
        raise bad(
            f"the key {err.args[0]!r} is given twice in one object; JSON keeps only the last, "
            "so say it once"
        ) from None
    except (ValueError, RecursionError) as err:
        if isinstance(err, json.JSONDecodeError):
            detail = f"{err.msg} at character {err.colno}"
        elif isinstance(err, RecursionError):
            detail = "nested too deeply"
        else:  # Python refuses integers over 4,300 digits
            detail = "a number too long to read: over 4,300 digits"
        raise bad(
            f"not valid JSON ({detail}); each line must be one JSON object such as "
            '{"id": "q1", "prompt": "Explain tokens in one sentence."}'
        ) from None
    surrogate = _lone_surrogate(data)
    if surrogate:
        raise bad(
            f"holds {surrogate}, half of a UTF-16 pair (a lone surrogate escape) that is not "
            "text and cannot be sent; fix the text that wrote it"
        )
    if not isinstance(data, dict):
        raise bad(
            f"a JSON {type(data).__name__}, not an object; each line must look like "
            '{"id": "q1", "prompt": "..."}'
        )
    if "id" not in data:
        raise bad(
            'no "id"; give every line a unique id (or use a .txt file, where the line number is '
            "the id)"
        )
    pid = data["id"]
    if not ((type(pid) is int and len(str(pid)) <= 100) or (isinstance(pid, str) and pid.strip())):
        raise bad(f'"id" must be a non-empty string or a whole number, got {str(pid)[:60]!r}')
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        got = "no prompt" if prompt is None else f"prompt {prompt!r}"
        raise bad(f'"prompt" must be non-empty text, got {got}')
    unknown = [k for k in data if k not in ("id", "prompt") and k not in REQUEST_OPTIONS]
    if unknown:
        raise bad(
            f"unknown key(s) {', '.join(map(repr, unknown))}; a line may set id, prompt and the "
            f"request options {', '.join(REQUEST_OPTIONS)} (a misspelt option would otherwise "
            "be ignored without a word)"
        )
    options = {k: v for k, v in data.items() if k in REQUEST_OPTIONS}
    for name, value in options.items():
        if not _check_option(name, value):
            raise bad(f'"{name}" must be {REQUEST_OPTIONS[name]}, got {repr(value)[:80]}')
    return PromptItem(pid, prompt.strip(), options, number)


def iter_prompts(path: str | os.PathLike[str]) -> Iterator[PromptItem]:
    """The prompts of a .txt or .jsonl file, read one line at a time (never the whole file).

    A .txt prompt's id is its line number; blank lines are skipped in both formats. A line that
    cannot be used raises ``InputError`` naming the line. Duplicate ids are found by
    ``scan_prompts``, which the runner calls first.
    """
    path = Path(path)
    kind = _kind(path)
    with _open_input(path) as handle:
        for number, raw in enumerate(handle, 1):
            text = _decode(raw, path, number)
            if not text.strip():
                continue
            if kind == "txt":
                yield PromptItem(number, text.strip(), {}, number)
            else:
                yield _jsonl_item(text, path, number)


@dataclass
class InputScan:
    """What the validation pass found: how many prompts, and the prompt digests asked for."""

    path: Path
    count: int
    lines: int
    digests: dict[str, bytes]


def prompt_digest(prompt: str) -> bytes:
    return hashlib.blake2b(prompt.encode(), digest_size=8).digest()


def _first_line_of(path: Path, key: str) -> int | None:
    for item in iter_prompts(path):
        if item.key == key:
            return item.line
    return None


def scan_prompts(path: str | os.PathLike[str], want: Iterable[str] = ()) -> InputScan:
    """Validate the whole file before anything is sent: every line, and no id used twice.

    Returns the number of prompts, plus a short digest of the prompt of each id in ``want``
    (the ids a resumed output already holds, so the runner can tell an edited input).
    """
    path = Path(path)
    want = set(want)
    seen: set[str] | None = set() if _kind(path) == "jsonl" else None
    digests: dict[str, bytes] = {}
    count = lines = 0
    for item in iter_prompts(path):
        count += 1
        lines = item.line or lines
        if seen is not None:
            if item.key in seen:
                first = _first_line_of(path, item.key)
                raise InputError(
                    f"the id {item.id!r} is used again (first on line {first}); every id must be "
                    "unique, because the output and --resume find each prompt by its id",
                    path=path,
                    line=item.line,
                )
            seen.add(item.key)
        if item.key in want:
            digests[item.key] = prompt_digest(item.prompt)
    if count == 0:
        with _open_input(path) as handle:
            size = sum(1 for _ in handle)
        problem = (
            "is empty: put one prompt on each line"
            if size == 0
            else f"has {size} line(s) and every one is blank: put one prompt on each line"
        )
        raise InputError(problem, path=path)
    return InputScan(path, count, lines, digests)


def items_from_memory(prompts: Iterable[Any]) -> list[PromptItem]:
    """Prompts given in Python: strings (id = position from 1), dicts like a .jsonl line, items."""
    items: list[PromptItem] = []
    seen: set[str] = set()
    where = Path("<prompts>")
    for number, entry in enumerate(prompts, 1):
        if isinstance(entry, PromptItem):
            item = entry
        elif isinstance(entry, str):
            if not entry.strip():
                raise InputError(f"prompt {number} is blank", path=where)
            if _lone_surrogate(entry):
                raise InputError(
                    f"prompt {number} holds {_lone_surrogate(entry)}, a lone surrogate that is "
                    "not text and cannot be sent",
                    path=where,
                )
            item = PromptItem(number, entry.strip(), {}, number)
        elif isinstance(entry, Mapping):
            item = _jsonl_item(json.dumps(entry), where, number)
        else:
            raise InputError(
                f"prompt {number} is a {type(entry).__name__}; give strings, or dicts with "
                '"id" and "prompt"',
                path=where,
            )
        if item.key in seen:
            raise InputError(f"the id {item.id!r} is used twice; ids must be unique", path=where)
        seen.add(item.key)
        items.append(item)
    if not items:
        raise InputError("there are no prompts to run", path=where)
    return items
