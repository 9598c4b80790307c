"""What a run did: ``RunSummary`` (the ``N succeeded, M failed`` line and the figures) and the
per-request ``Attempt`` records that plots read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..results import Result

__all__ = ["Attempt", "RunSummary"]


@dataclass(frozen=True)
class Attempt:
    """One request as the runner saw it, for plots: when it left and came back, and how."""

    sent_s: float  # seconds since the run started
    done_s: float
    status: int | None  # HTTP status; None when no response came (connection, timeout)
    category: str | None  # errors category for a failure; None for a success


@dataclass
class RunSummary:
    """What a run did: counts by outcome, requests and 429s, the limits it paced to, and why it
    stopped early if it did. ``line()`` is the contract's ``N succeeded, M failed``."""

    total: int = 0  # prompts in the input
    skipped: int = 0  # already done in the output (--resume)
    succeeded: int = 0  # over the whole result set, previous records included
    failed: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    not_attempted: int = 0
    incomplete: int = 0  # answers cut at max_output_tokens (still ok)
    preflight: Counter[str] = field(default_factory=Counter)  # chunked / truncated / refused
    requests: int = 0  # requests sent, retries included
    rate_limited: int = 0  # 429 rate_limit_exceeded answers seen
    retries: int = 0
    elapsed_s: float = 0.0
    rpm: float | None = None
    tpm: float | None = None
    limits_source: str = "none"  # "given", "learned from x-ratelimit-* headers", "none"
    reserved_tokens: int = 0  # tokens the requests reserved against TPM (input + output cap)
    stopped: str | None = None
    output: Path | None = None
    notes: list[str] = field(default_factory=list)
    results: list[Result] | None = None  # the records, when no output file was given
    timeline: list[Attempt] | None = None

    def count(self, result: Result) -> None:
        """Count one record into the result set."""
        if result.ok:
            self.succeeded += 1
        else:
            self.failed += 1
            self.by_category[result.error_type or "unexpected"] += 1

    @property
    def tokens_per_request(self) -> float | None:
        """Mean tokens reserved per request (what a TPM limit divides)."""
        return self.reserved_tokens / self.requests if self.requests else None

    @property
    def ceiling_rpm(self) -> float | None:
        """``min(RPM, TPM / tokens per request)``: the fastest steady rate the limits allow."""
        rates = []
        if self.rpm:
            rates.append(self.rpm)
        if self.tpm and self.tokens_per_request:
            rates.append(self.tpm / self.tokens_per_request)
        return min(rates) if rates else None

    @property
    def achieved_rpm(self) -> float:
        """Requests per minute over the whole run."""
        return 60 * self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 when every prompt succeeded, 1 when any failed (2 is for bad input, never here)."""
        return 0 if self.failed == 0 else 1

    def line(self) -> str:
        """The summary line: ``N succeeded, M failed``."""
        return f"{self.succeeded} succeeded, {self.failed} failed"

    def report(self) -> str:
        """The summary line, the per-category breakdown and the pacing figures."""
        out = [self.line()]
        for category, n in sorted(self.by_category.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  {category}: {n}")
        if self.not_attempted:
            out.append(f"  ({self.not_attempted} of those not attempted: the run stopped early)")
        if self.skipped:
            out.append(f"{self.skipped} prompt(s) were already done in {self.output} (--resume)")
        for kind, n in sorted(self.preflight.items()):
            out.append(f"{n} prompt(s) over the context budget were {kind} before sending")
        if self.incomplete:
            out.append(f"{self.incomplete} answer(s) were cut at max_output_tokens (still ok)")
        if self.requests == 0:
            out.append("no request was needed" if not self.stopped else "no request was sent")
            if self.stopped:
                out.append(f"stopped early {self.stopped}")
            return "\n".join(out)
        rpm = f"{self.rpm:,.0f} RPM" if self.rpm else "no RPM limit"
        tpm = f"{self.tpm:,.0f} TPM" if self.tpm else "no TPM limit"
        limits = f"limits: {rpm}, {tpm} ({self.limits_source})"
        ceiling = self.ceiling_rpm
        if ceiling and self.tokens_per_request:
            limits += (
                f"; ceiling {ceiling:,.0f} requests/min = min(RPM, TPM / "
                f"{self.tokens_per_request:,.0f} tokens per request)"
            )
        out.append(limits)
        pace = (
            f"sent {self.requests:,} request(s) in {self.elapsed_s:.1f} s, {self.retries} "
            f"retried, {self.rate_limited} answered 429"
        )
        if ceiling:
            allowed = ceiling * (1 + self.elapsed_s / 60)
            pace += (
                f"; at most {allowed:,.0f} fit the limits in that time (a full bucket, then "
                f"{ceiling / 60:,.1f} a second)"
            )
        out.append(pace)
        if self.stopped:
            out.append(f"stopped early {self.stopped}")
        return "\n".join(out)
