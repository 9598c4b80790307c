"""The spend ledger: one small JSON file that keeps a learner's live spend across notebooks,
kernels and restarts, and the refusals the spend guard raises.

``SpendLedger`` holds dollars spent, dollars reserved by requests in flight and the counts. Every
update takes an exclusive file lock (``filelock``) and replaces the file atomically, so several
kernels can reserve and settle at once without passing the cap together or losing a write. A
damaged ledger is an error, never a silent $0; so is a ledger that vanished after it was written
(a marker file beside it remembers): only ``reset_spend()`` starts the count again.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import openai

from . import config

with warnings.catch_warnings():  # a browser tab has no OS file locks; one tab is one process
    warnings.filterwarnings("ignore", "only soft file lock is available", UserWarning)
    from filelock import FileLock

__all__ = ["BudgetExceeded", "LedgerUnusable", "LiveRequestRefused", "SpendLedger", "SpendTotal"]


class LiveRequestRefused(openai.OpenAIError):
    """A live request the course's spend guard refused to send (nothing left the machine)."""


class LedgerUnusable(config.ConfigError, LiveRequestRefused):
    """The spend ledger is damaged, or vanished after it was written: live requests are refused
    until it is fixed or ``reset_spend()`` is called (a setting's problem, and a refusal)."""


class BudgetExceeded(LiveRequestRefused):
    """A live request would pass the course's spend cap, so it was not sent."""

    def __init__(
        self,
        estimate_usd: float,
        spent_usd: float,
        budget_usd: float,
        what: str,
        reserved_usd: float = 0.0,
    ) -> None:
        self.estimate_usd, self.spent_usd, self.budget_usd = estimate_usd, spent_usd, budget_usd
        self.reserved_usd = reserved_usd
        held = (
            f" and ${reserved_usd:.4f} reserved by requests in flight" if reserved_usd > 0 else ""
        )
        uncapped = "no output cap" in what
        super().__init__(
            f"Not sent: this request could cost up to ${estimate_usd:.4f} ({what}); with "
            f"${spent_usd:.4f} already spent{held} it would pass the course's spend cap of "
            f"${budget_usd:.2f} (COURSE_BUDGET_USD, one total across notebooks). "
            + (
                "It sets no output cap, so it is priced at the model's maximum output: set "
                "max_output_tokens (Chat: max_completion_tokens). "
                if uncapped
                else "Lower max_output_tokens, "
            )
            + "Shorten the input, pick a cheaper model, or raise COURSE_BUDGET_USD deliberately."
        )


@dataclass(frozen=True)
class SpendTotal:
    """What the ledger holds: dollars spent (settled, and billed for requests never answered),
    dollars reserved by requests in flight, the counts, and since when (UTC, ISO)."""

    spent_usd: float = 0.0
    requests: int = 0
    since: str = ""
    reserved_usd: float = 0.0
    unanswered: int = 0

    @property
    def committed_usd(self) -> float:
        """Spent + reserved: what the cap is checked against."""
        return self.spent_usd + self.reserved_usd


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _amount(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value >= 0
    )


def is_count(value: object) -> bool:
    """A token or request count: a whole number >= 0 (not a bool)."""
    return not isinstance(value, bool) and isinstance(value, int) and value >= 0


class SpendLedger:
    """The spend total in one small JSON file, safe to update from several processes at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # The lock file stays (no unlink race between holders); the marker says a ledger has
        # been written here, so a ledger that vanishes is noticed instead of restarting at $0.
        lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock = FileLock(lock_path, preserve_lock_file=True)
        self._marker = self.path.with_name(self.path.name + ".kept")

    def __repr__(self) -> str:
        return f"<SpendLedger {self.path}>"

    def read(self) -> SpendTotal:
        """The current total ($0 when the file does not exist yet).

        Readers need no lock: writers replace the file atomically, so a read sees one whole
        version. A damaged file is an error, never a silent $0: the cap must not reset itself.
        """
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            if self._marker.exists():
                raise self._damaged(
                    "has vanished: it was written before, and only reset_spend() starts the "
                    "count again"
                ) from None
            return SpendTotal()
        except OSError as err:
            raise self._damaged(f"is damaged: it cannot be read: {err.strerror}") from None
        try:
            data = json.loads(text)
            spent, requests = data["spent_usd"], data["requests"]
            reserved, unanswered = data.get("reserved_usd", 0.0), data.get("unanswered", 0)
            since = str(data.get("since", ""))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise self._damaged("is damaged: it is not the course's JSON ledger") from None
        if not (
            _amount(spent) and _amount(reserved) and is_count(requests) and is_count(unanswered)
        ):
            raise self._damaged("is damaged: its amounts or counts are not valid")
        return SpendTotal(float(spent), requests, since, float(reserved), unanswered)

    def add(self, usd: float) -> SpendTotal:
        """Add one answered request's cost; returns the new total."""
        _check_usd(usd)
        return self._update(
            lambda t: replace(t, spent_usd=t.spent_usd + usd, requests=t.requests + 1)
        )

    def reserve(self, usd: float, budget_usd: float, what: str) -> SpendTotal:
        """Reserve ``usd`` for a request about to be sent, or raise ``BudgetExceeded`` if spent +
        reserved + ``usd`` would pass ``budget_usd`` (checked and written under the lock)."""
        _check_usd(usd)

        def change(t: SpendTotal) -> SpendTotal:
            if t.committed_usd + usd > budget_usd:
                raise BudgetExceeded(usd, t.spent_usd, budget_usd, what, t.reserved_usd)
            return replace(t, reserved_usd=t.reserved_usd + usd)

        return self._update(change)

    def settle(self, reserved_usd: float, actual_usd: float) -> SpendTotal:
        """An answered request: its reservation goes, its actual cost is added."""
        _check_usd(actual_usd)
        return self._update(
            lambda t: replace(
                t,
                reserved_usd=max(0.0, t.reserved_usd - reserved_usd),
                spent_usd=t.spent_usd + actual_usd,
                requests=t.requests + 1,
            )
        )

    def bill_unanswered(self, reserved_usd: float) -> SpendTotal:
        """A request sent and never answered: billed at its reservation (the service may have)."""
        return self._update(
            lambda t: replace(
                t,
                reserved_usd=max(0.0, t.reserved_usd - reserved_usd),
                spent_usd=t.spent_usd + reserved_usd,
                requests=t.requests + 1,
                unanswered=t.unanswered + 1,
            )
        )

    def release(self, reserved_usd: float) -> SpendTotal:
        """A request that costs nothing after all (never sent, or an error answer)."""
        return self._update(
            lambda t: replace(t, reserved_usd=max(0.0, t.reserved_usd - reserved_usd))
        )

    def reset(self) -> None:
        """Start again at $0 (the only way the total ever goes down)."""
        with self._locked():
            self._write(SpendTotal(since=_now()))

    def _update(self, change: Callable[[SpendTotal], SpendTotal]) -> SpendTotal:
        with self._locked():
            old = self.read()
            new = change(old)
            if not new.since:
                new = replace(new, since=_now())
            self._write(new)
        return new

    def _damaged(self, why: str) -> LedgerUnusable:
        return LedgerUnusable(
            f"The course's spend ledger {self.path} {why}. It keeps your live spend "
            "across notebooks, so live requests stop until it is fixed. Look at your usage on "
            "the provider's dashboard, then call course_utils.reset_spend() to start the count "
            "at $0 (or set COURSE_SPEND_LEDGER to another file)."
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the ledger's exclusive lock (every thread and process queues on it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            yield

    def _write(self, total: SpendTotal) -> None:
        """Write ``total`` atomically: a temporary file in the same folder, then a rename."""
        data = {
            "spent_usd": total.spent_usd,
            "requests": total.requests,
            "reserved_usd": total.reserved_usd,
            "unanswered": total.unanswered,
            "since": total.since,
            "about": "Live API spend of the course (course_utils.spend); reset_spend() zeroes it.",
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        if not self._marker.exists():
            self._marker.write_text(
                f"{self.path.name} is the course's spend ledger. While this file is here, a "
                "missing ledger stops live requests until course_utils.reset_spend().\n",
                "utf-8",
            )


def _check_usd(usd: object) -> None:
    if not _amount(usd):
        raise ValueError(f"a cost must be a number of dollars >= 0, got {usd!r}")
