"""Fitting one request into an input-token budget before it is sent.

One function, ``fit_request``, used by every path that sends text it did not write: lesson 01's
``preflight_chunks``, the runner, and the batch path. A request over its budget is chunked
(several requests, cut at sentence ends), truncated, or refused unsent; the budget is for the
whole request as the service bills it (instructions and the chat wrapper included).
``input_budget`` says what the budget is and why (the context window, the TPM limit, a setting).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .chunking import chunk_text, truncate_to_tokens
from .pricing import model_or_default
from .tokens import count_request_input, count_tokens

__all__ = ["ON_LONG", "Fit", "fit_request", "input_budget"]

ON_LONG = ("chunk", "truncate", "fail")


@dataclass(frozen=True)
class Fit:
    """What to send for one request: its bodies (several when chunked, none when refused)."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    used: int = 0  # input tokens of the request as given
    budget: int = 0
    overhead: int = 0  # input tokens billed before any text (instructions, chat wrapper)
    note: str | None = None  # what was done to the text, for the record's message
    refusal: str | None = None  # why nothing can be sent

    @property
    def refused(self) -> bool:
        return not self.bodies


def input_budget(
    model: str, output_cap: int, tpm: float | None = None, max_input_tokens: int | None = None
) -> tuple[int, str]:
    """Input tokens one request may bill, and what set that limit (for messages)."""
    info = model_or_default(model)
    less = f" less the {output_cap}-token output cap"
    limits = [
        (
            info.context_window - output_cap,
            f"{model}'s {info.context_window:,}-token context window{less}",
        )
    ]
    if tpm:
        limits.append((int(tpm) - output_cap, f"the {tpm:,.0f} TPM limit{less}"))
    if max_input_tokens:
        limits.append((max_input_tokens, "the max_input_tokens setting"))
    return min(limits)


def fit_request(
    body: Mapping[str, Any], budget: int, on_long: str = "chunk", why: str = "the budget"
) -> Fit:
    """The request ``body`` as one or more bodies whose input fits ``budget`` tokens.

    ``on_long`` says what to do with a request over the budget: ``chunk`` (one body per chunk,
    every other field kept), ``truncate`` (the first tokens that fit) or ``fail`` (refused).
    ``why`` names the budget in the messages. A budget the instructions alone fill is refused.
    """
    used = count_request_input(body)
    overhead = count_request_input({**body, "input": ""})
    room = budget - overhead
    fit = Fit([dict(body)], used, budget, overhead)
    if used <= budget and room >= 0:
        return fit
    model = str(body.get("model"))
    text = str(body["input"])
    over = f"the request is {used:,} input tokens, over the budget of {budget:,} ({why})"
    if room < 1:
        refusal = (
            f"a budget of {budget:,} input tokens leaves no room for text: the instructions and "
            f"the chat wrapper alone bill {overhead:,} tokens. Raise the budget or shorten the "
            "instructions."
        )
        return Fit([], used, budget, overhead, refusal=refusal)
    if on_long == "fail":
        refusal = (
            f"Not sent: {over}. Shorten the prompt, or let the runner chunk or truncate it "
            "(--on-long chunk, --on-long truncate)."
        )
        return Fit([], used, budget, overhead, refusal=refusal)
    if on_long == "truncate":
        cut = truncate_to_tokens(text, room, model)
        note = (
            f"Truncated before sending: the prompt's first {count_tokens(cut, model):,} of "
            f"{count_tokens(text, model):,} tokens were sent (budget {budget:,}: {why})."
        )
        return Fit([{**body, "input": cut}], used, budget, overhead, note=note)
    parts = chunk_text(text, room, model)
    note = (
        f"Chunked before sending: {over}, so the prompt went as {len(parts)} parts cut at "
        "sentence ends; the answers are joined in order, separated by a blank line."
    )
    return Fit([{**body, "input": part} for part in parts], used, budget, overhead, note=note)
