"""The JSONL output: checked before a run, repaired and compacted for ``--resume``, appended to.

One record per prompt, each a whole line ending in a newline, written and flushed as the prompt
finishes. A crash (even ``kill -9``) can only leave a last line without its newline; ``--resume``
finds it, drops it (or completes it, if the record is whole) and never parses it as data.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import filelock

from ..errors import CATEGORIES, CourseError
from ..results import Result
from .inputs import InputError, prompt_digest

__all__ = [
    "FSYNC_EVERY_S",
    "STATE_SUFFIX",
    "STOP_CATEGORIES",
    "BatchState",
    "OutputError",
    "ResumePlan",
    "Sink",
    "SubmittedBatch",
    "apply_resume",
    "check_output_path",
    "hold_output",
    "is_final",
    "plan_resume",
    "read_results",
]

BATCH_ENDPOINT = "/v1/responses"  # what the batch path's lines ask for
STATE_SUFFIX = ".batch.json"  # results.jsonl -> results.jsonl.batch.json
STATE_VERSION = 1
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


class OutputError(CourseError, OSError):
    """The output could not be written (a full disk, a device): the run ends, nothing is lost."""


def check_output_path(output: Path, input_path: Path | None = None) -> None:
    """Refuse an output that cannot be written, before any prompt is read or sent."""
    if (
        input_path is not None
        and output.exists()
        and input_path.exists()
        and os.path.samefile(output, input_path)  # the same device and inode: a link too
    ):
        raise InputError(
            "is the prompts file itself (the same file, perhaps under another name or a link); "
            "write the results somewhere else (-o results.jsonl)",
            path=output,
        )
    if output.is_dir():
        raise InputError("is a folder; give a file name such as results.jsonl", path=output)
    if output.exists() and not stat.S_ISREG(output.stat().st_mode):
        raise InputError(
            "is not a regular file (a device such as /dev/null, or a pipe): the runner keeps "
            "its records there and resumes from them; give a file name such as results.jsonl",
            path=output,
        )
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
    outcome: dict[str, str | None] = field(default_factory=dict)  # id -> None (ok) or category
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


_RECORD_START = '{"id": '  # how every record the runner writes begins (Result.to_json)
_AFTER_ID = ', "prompt": '


def begins_a_record(data: bytes) -> bool:
    """True when ``data`` could be the start of a record the runner wrote and a crash cut off."""
    text = data.decode("utf-8", errors="ignore")  # a cut may split the last character
    if len(text) <= len(_RECORD_START):
        return _RECORD_START.startswith(text)
    if not text.startswith(_RECORD_START):
        return False
    try:
        _, end = json.JSONDecoder().raw_decode(text, len(_RECORD_START))
    except ValueError:  # the cut fell inside the id
        return True
    rest = text[end:]
    return rest.startswith(_AFTER_ID) or _AFTER_ID.startswith(rest)


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
    """Read an existing output (streamed) and decide what to keep; nothing is changed yet.

    A last line without its newline is the only thing repaired: dropped if it is the start of
    one of the runner's own records (a crash mid-write), completed if it is a whole record.
    Anything else is text the runner did not write, and it is refused, never deleted.
    """
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
                    if not begins_a_record(line):
                        raise InputError(
                            "ends with a line the runner did not write (no newline, and not the "
                            "start of a record): it is left alone. Move that text elsewhere, or "
                            "start afresh with --overwrite",
                            path=path,
                            line=number,
                        ) from None
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
                plan.outcome[key] = None if record.ok else (record.error_type or "unexpected")
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


def _holder() -> str:
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    program = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:3]))
    return f"process {os.getpid()} on {socket.gethostname()} ({program}), since {started}"


def hold_output(output: Path) -> filelock.BaseFileLock:
    """Lock ``output`` (and the batch state beside it) for this run, or raise ``InputError``.

    Two runs appending to one output would write a prompt twice; the second one is refused and
    told who holds the lock. The lock is ``<output>.lock`` (an OS lock: a crashed run's lock is
    released with its process); the file stays, as it must for the lock to be safe.
    """
    lock_path = output.with_name(output.name + ".lock")

    def record_holder(fd: int) -> None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder().encode("utf-8", "replace"), 0)

    lock = filelock.FileLock(lock_path, timeout=0, on_acquired=record_holder)
    try:
        lock.acquire()
    except filelock.Timeout:
        try:
            holder = lock_path.read_text("utf-8", "replace").strip() or "another run"
        except OSError:
            holder = "another run"
        raise InputError(
            f"is in use by another run: {holder}. Wait for it to finish (or stop it), then run "
            "again; two runs on one output would write prompts twice",
            path=output,
        ) from None
    except OSError as err:
        raise InputError(f"cannot be locked ({err.strerror}): {lock_path}", path=output) from None
    return lock


class Sink:
    """Appends one JSON line per record; flushed at once, fsynced at most once a second.

    A write that fails (a full disk) raises ``OutputError`` with what to do: every record
    written before it is whole, and ``--resume`` finishes the rest.
    """

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

    def _failed(self, err: OSError) -> OutputError:
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
        return OutputError(
            f"{self.path}: cannot write the results ({err.strerror or err}). The records "
            "written before this are whole and kept: free some space (or choose another -o), "
            "then run the same command with --resume to finish"
        )

    def write(self, result: Result) -> None:
        if self.path is None:
            assert self.memory is not None
            self.memory.append(result)
            return
        if self._handle is None:
            raise OutputError(f"{self.path}: the output was closed after a write error")
        try:
            self._handle.write(result.to_json() + "\n")
            self._handle.flush()
            now = time.monotonic()
            if now - self._synced >= FSYNC_EVERY_S:
                os.fsync(self._handle.fileno())
                self._synced = now
        except OSError as err:
            raise self._failed(err) from None

    def close(self) -> None:
        if self._handle is not None:
            try:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()
            except OSError as err:
                raise self._failed(err) from None
            self._handle = None


# --- the batch path's state, kept beside the output --------------------------------------------


@dataclass
class SubmittedBatch:
    """One batch this run created: its id and which prompts (custom ids) it holds."""

    id: str
    input_file_id: str
    custom_ids: list[str]
    submitted_at: float  # time.time(): a record's latency is measured from here
    collected: bool = False
    status: str = "validating"
    reserved_usd: float = 0.0  # live: the worst case held in the spend ledger until collected


@dataclass
class BatchState:
    """The batches of one output file, saved as JSON beside it (``results.jsonl.batch.json``).

    Written (atomically) right after each batch is created and after each is collected, so a
    run interrupted at any point knows what is running on the service and what is already in
    the output.
    """

    path: Path | None
    model: str
    endpoint: str = BATCH_ENDPOINT
    batches: list[SubmittedBatch] = field(default_factory=list)

    @staticmethod
    def path_for(output: str | os.PathLike[str]) -> Path:
        """Where the state of ``output`` lives."""
        output = Path(output)
        return output.with_name(output.name + STATE_SUFFIX)

    @classmethod
    def load(cls, path: Path) -> BatchState:
        """Read a state file; a damaged one raises ``InputError`` saying what to do."""
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"version {data.get('version')!r}")
            batches = [SubmittedBatch(**b) for b in data["batches"]]
            return cls(path, data["model"], data["endpoint"], batches)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise InputError(
                f"the batch state file cannot be read ({err}). It lists the batches a "
                "run submitted; if you know they are finished, delete it and run with "
                "--overwrite; otherwise find their ids with client.batches.list()",
                path=path,
            ) from None

    @classmethod
    def for_run(
        cls,
        output: Path | None,
        model: str,
        *,
        resume: bool,
        overwrite: bool,
        cancel: bool,
        say: Callable[[str], None],
    ) -> BatchState:
        """The batches already in flight for ``output`` (resume, cancel) or a fresh state."""
        if output is None:
            if cancel:
                raise InputError("--cancel needs the output file whose batches it should cancel")
            return cls(None, model)
        path = cls.path_for(output)
        if not path.exists():
            if cancel:
                raise InputError(
                    f"nothing to cancel: no batches in flight for this output (no {path.name})",
                    path=output,
                )
            return cls(path, model)
        state = cls.load(path)
        if overwrite:
            ids = ", ".join(b.id for b in state.pending) or "none"
            say(
                f"--overwrite: forgetting the batches listed in {path.name} ({ids}); any still "
                "running keep running on the service until they end (cancel them with "
                "client.batches.cancel(id) if you do not want them)"
            )
            path.unlink()
            return cls(path, model)
        if not (resume or cancel):
            raise InputError(
                f"batches are in flight for this output ({path.name} lists them): run with "
                "--resume to collect them, --cancel to cancel them, or --overwrite to forget them",
                path=output,
            )
        if state.pending and state.model != model:
            raise InputError(
                f"the batches in flight were submitted for model {state.model!r}, not {model!r}: "
                f"resume with --model {state.model}",
                path=output,
            )
        return state

    def save(self) -> None:
        """Write the state (through a temporary file, so a crash never leaves half of it)."""
        if self.path is None:
            return
        data = {
            "version": STATE_VERSION,
            "model": self.model,
            "endpoint": self.endpoint,
            "batches": [asdict(b) for b in self.batches],
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", "utf-8")
        os.replace(tmp, self.path)

    def remove(self) -> None:
        """Delete the file once every batch is collected."""
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    @property
    def pending(self) -> list[SubmittedBatch]:
        """Batches created but not yet collected into the output."""
        return [b for b in self.batches if not b.collected]

    def pending_ids(self) -> set[str]:
        """The custom ids of every prompt in a batch not yet collected."""
        return {cid for b in self.pending for cid in b.custom_ids}


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
