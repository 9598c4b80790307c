"""The JSONL output: checked before a run, repaired and compacted for ``--resume``, appended to.

One record per prompt, each a whole line ending in a newline, written and flushed as the prompt
finishes. A crash (even ``kill -9``) can only leave a last line without its newline; ``--resume``
finds it, drops it (or completes it, if the record is whole) and never parses it as data.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..errors import CATEGORIES
from ..results import Result
from .inputs import InputError, prompt_digest

__all__ = [
    "FSYNC_EVERY_S",
    "STOP_CATEGORIES",
    "ResumePlan",
    "Sink",
    "apply_resume",
    "check_output_path",
    "is_final",
    "plan_resume",
    "read_results",
]

FSYNC_EVERY_S = 1.0  # flush() after every record survives a crash; fsync bounds a power cut

# Failures no retry can fix, for any prompt: stop sending and leave the rest for --resume.
STOP_CATEGORIES = frozenset({"auth", "permission", "quota"})
_RETRIABLE = {c.name: c.retriable for c in CATEGORIES}


def is_final(result: Result) -> bool:
    """True when a record needs no rerun: a success, or a failure that is about the prompt itself.

    ``--resume`` sends again every other id: prompts not attempted, those stopped by a quota or
    key error, and those whose transient errors outlasted the retries.
    """
    if result.ok:
        return True
    category = result.error_type or "unexpected"
    return not _RETRIABLE.get(category, False) and category not in STOP_CATEGORIES


def check_output_path(output: Path, input_path: Path | None = None) -> None:
    """Refuse an output that cannot be written, before any prompt is read or sent."""
    if (
        input_path is not None
        and output.exists()
        and input_path.exists()
        and output.resolve() == input_path.resolve()
    ):
        raise InputError(
            "is the prompts file itself; write the results somewhere else (-o results.jsonl)",
            path=output,
        )
    if output.is_dir():
        raise InputError("is a folder; give a file name such as results.jsonl", path=output)
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.exists():
        raise InputError(
            f"cannot be created: the folder {str(parent)!r} does not exist (create it first)",
            path=output,
        )
    if not parent.is_dir():
        raise InputError(f"cannot be created: {str(parent)!r} is a file, not a folder", path=output)
    if output.exists() and not os.access(output, os.W_OK):
        raise InputError("is not writable (check its permissions)", path=output)
    if not output.exists() and not os.access(parent, os.W_OK):
        raise InputError(
            f"cannot be created: the folder {str(parent)!r} is not writable", path=output
        )


@dataclass
class ResumePlan:
    """What an existing output holds and what ``--resume`` will do to it before the run."""

    path: Path
    keep: dict[str, bytes] = field(default_factory=dict)  # id -> digest of its prompt
    kept_ok: int = 0
    kept_failed: Counter[str] = field(default_factory=Counter)
    rerun: int = 0  # records dropped so their prompts run again
    torn_bytes: int = 0  # a last line cut off by a crash (no newline), dropped
    torn_kept: bool = False  # ... or one whose record was whole and only lacked its newline
    valid_end: int = 0  # byte offset just after the last whole line

    @property
    def needs_rewrite(self) -> bool:
        return self.rerun > 0

    def describe(self) -> list[str]:
        """Lines for the user: what was found and repaired."""
        notes = []
        if self.torn_bytes:
            notes.append(
                f"repaired {self.path}: its last line was cut off ({self.torn_bytes} bytes, no "
                "newline: a run was killed mid-write); dropped it, so that prompt runs again"
            )
        if self.torn_kept:
            notes.append(f"repaired {self.path}: its last record lacked a newline; completed it")
        if self.rerun:
            notes.append(
                f"{self.rerun} record(s) not finished (not attempted, stopped, or transient errors "
                "past the retries) are run again"
            )
        return notes


def _parse_record(line: bytes, path: Path, number: int) -> Result:
    try:
        return Result.from_json(line)
    except ValueError as err:  # InvalidResult is a ValueError
        raise InputError(
            f"is not a runner record ({err}); the file was edited or written by something else. "
            "Fix or delete that line, or start afresh with --overwrite",
            path=path,
            line=number,
        ) from None


def plan_resume(path: Path) -> ResumePlan:
    """Read an existing output (streamed) and decide what to keep; nothing is changed yet."""
    plan = ResumePlan(path)
    if not path.exists():
        return plan
    lines: dict[str, int] = {}
    with open(path, "rb") as handle:
        offset = 0
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):  # only the last line can lack one: a torn write
                try:
                    record = Result.from_json(line)
                except ValueError:
                    plan.torn_bytes = len(line)
                    break
                plan.torn_kept = True
            else:
                if not line.strip():
                    offset += len(line)
                    continue
                record = _parse_record(line, path, number)
            key = str(record.id)
            if key in lines:
                raise InputError(
                    f"holds a second record for id {record.id!r} (the first is on line "
                    f"{lines[key]}); remove one of them, or start afresh with --overwrite",
                    path=path,
                    line=number,
                )
            lines[key] = number
            if is_final(record):
                plan.keep[key] = prompt_digest(record.prompt)
                if record.ok:
                    plan.kept_ok += 1
                else:
                    plan.kept_failed[record.error_type or "unexpected"] += 1
            else:
                plan.rerun += 1
            offset += len(line)
    plan.valid_end = offset
    return plan


def apply_resume(plan: ResumePlan) -> None:
    """Make the output hold exactly the records to keep: drop a torn tail, drop records to rerun.

    A rewrite goes through a temporary file and ``os.replace``, so a crash here leaves either the
    old file or the new one, never half of each.
    """
    path = plan.path
    if not path.exists():
        return
    if plan.needs_rewrite:
        tmp = path.with_name(path.name + ".resume-tmp")
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            for line in src:
                if not line.strip():
                    continue
                try:
                    record = Result.from_json(line)
                except ValueError:
                    break  # the torn tail (anything else was refused by plan_resume)
                if str(record.id) in plan.keep:
                    dst.write(line if line.endswith(b"\n") else line + b"\n")
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, path)
    elif plan.torn_bytes:
        os.truncate(path, plan.valid_end)
    elif plan.torn_kept:
        with open(path, "ab") as handle:
            handle.write(b"\n")


class Sink:
    """Appends one JSON line per record; flushed at once, fsynced at most once a second."""

    def __init__(self, path: Path | None, truncate: bool) -> None:
        self.path = path
        self.memory: list[Result] | None = [] if path is None else None
        self._handle: IO[str] | None = None
        self._synced = time.monotonic()
        if path is not None:
            try:
                self._handle = open(path, "w" if truncate else "a", encoding="utf-8", newline="\n")  # noqa: SIM115
            except OSError as err:
                raise InputError(
                    f"cannot be opened for writing ({err.strerror})", path=path
                ) from None

    def write(self, result: Result) -> None:
        if self._handle is None:
            assert self.memory is not None
            self.memory.append(result)
            return
        self._handle.write(result.to_json() + "\n")
        self._handle.flush()
        now = time.monotonic()
        if now - self._synced >= FSYNC_EVERY_S:
            os.fsync(self._handle.fileno())
            self._synced = now

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None


def read_results(path: str | os.PathLike[str]) -> list[Result]:
    """The records of a runner output, as ``Result`` objects (a torn last line is left out)."""
    path = Path(path)
    results = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                with contextlib.suppress(ValueError):
                    results.append(Result.from_json(line))
                break
            if line.strip():
                results.append(_parse_record(line, path, number))
    return results
