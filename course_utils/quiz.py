"""The wrap-up knowledge check and best-practices checklist, as data plus a grader.

Questions are plain data so the quiz widget, the instructor's guide and the tests read one
source. ``grade`` never raises on a learner's answer: an empty or malformed answer is feedback
("choose an option first"), not a traceback. Short answers are graded by their key ideas: each
``Idea`` is a name plus alternative phrasings, and an answer must say one phrasing of every idea
(so "you wait" or "the retry loop gets longer" names no problem and does not pass).

The model answer (the explanation) is shown with a right answer, after a second wrong try, or
when the learner asks (``model_answer``); a first wrong try gets a nudge that names what is
missing, so the learner thinks again before reading the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CHECKLIST",
    "QUESTIONS",
    "ChecklistItem",
    "Feedback",
    "Idea",
    "Question",
    "grade",
    "model_answer",
    "score_line",
]


@dataclass(frozen=True)
class Idea:
    """One key idea a short answer must contain: its name (named in the nudge) and phrasings.

    Phrasings match from the start of a word of the normalised answer, so "overload" also
    matches "overloaded" and "rate limit" matches "rate-limited".
    """

    name: str
    phrasings: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """One knowledge-check question.

    ``kind`` is ``"choice"`` (one option is right), ``"multi"`` (tick every right option),
    ``"number"`` (a whole number) or ``"short"`` (free text graded by ``ideas``).
    """

    id: str
    prompt: str
    kind: str
    explanation: str
    options: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()  # indexes into options ("choice" / "multi")
    number: int | None = None  # "number"
    ideas: tuple[Idea, ...] = ()  # "short": every idea needs one of its phrasings
    lesson: str = ""  # where it is taught, shown with the feedback


@dataclass(frozen=True)
class Feedback:
    """What the learner sees after answering: right or not, why, and where to read more."""

    correct: bool
    message: str
    answered: bool = True


@dataclass(frozen=True)
class ChecklistItem:
    area: str
    text: str
    lesson: str  # the notebook that shows it


QUESTIONS: tuple[Question, ...] = (
    Question(
        "concise",
        "Why is a concise prompt with explicit output constraints usually better than a "
        "verbose one?",
        "choice",
        "Fewer input tokens cost less and leave room in the context window, and explicit "
        "constraints (3 bullets, under 80 words) make the answer's length and shape "
        "predictable, so it is cheaper and easier to display or parse.",
        options=(
            "The model ignores long prompts",
            "It costs fewer tokens and makes the answer's size and shape predictable",
            "Verbose prompts are rejected with a 400 error",
            "Concise prompts are always answered faster by a bigger model",
        ),
        correct=(1,),
        lesson="02_prompt_efficiency.ipynb",
    ),
    Question(
        "backoff",
        "In a sentence: what problem does exponential backoff solve, and how?",
        "short",
        "Retrying at once keeps hammering a service that is already overloaded or limiting "
        "you. Waiting longer after each failure (1 s, 2 s, 4 s, ...) gives it time to recover "
        "and stops your client from making the overload worse.",
        ideas=(
            Idea(
                "the problem: retries that hammer a busy, overloaded or rate-limited service",
                (
                    "overload", "hammer", "flood", "swamp", "spam", "too many", "rate limit",
                    "busy", "thundering herd", "storm", "spike", "pressure", "congest",
                    "strain", "throttl", "429", "collid", "all at once", "at the same time",
                    "keep failing", "keeps failing", "fail again",
                ),
            ),
            Idea(
                "how: each retry waits longer than the last, giving the service time",
                (
                    "wait longer", "waits longer", "waiting longer", "longer wait",
                    "longer delay", "longer pause", "longer each", "longer after",
                    "longer between", "twice as long", "doubl", "grow", "increas", "recover",
                    "more time", "spread", "space", "spacing", "slow down", "slows down",
                    "back off", "backs off", "less often", "fewer request", "delay",
                ),
            ),
        ),
        lesson="03_rate_limits_backoff.ipynb",
    ),
    Question(
        "no_retry",
        "Which of these should NOT be retried? Tick every one.",
        "multi",
        "A bad key (401), an invalid parameter (400) and an exhausted quota "
        "(429 insufficient_quota) fail the same way every time: fix the key, the request or "
        "the billing. A rate limit (429 rate_limit_exceeded), a 503 and a dropped connection "
        "are transient: back off and retry.",
        options=(
            "401 invalid API key",
            "429 rate_limit_exceeded",
            "400 unknown parameter",
            "503 service overloaded",
            "429 insufficient_quota",
            "connection reset by the network",
        ),
        correct=(0, 2, 4),
        lesson="04_error_handling.ipynb",
    ),
    Question(
        "structured",
        "Why return a structured result (ok, output, error_type, message, attempts) instead "
        "of letting the exception escape?",
        "choice",
        "One failed prompt should not end a batch of a thousand. A record per prompt lets the "
        "caller keep going, show a friendly message, count failures by category and retry "
        "later only what failed.",
        options=(
            "Exceptions are slower than dictionaries",
            "So a batch keeps going and the caller can report, count and retry failures",
            "Because the SDK cannot raise exceptions in notebooks",
            "To hide errors from the logs",
        ),
        correct=(1,),
        lesson="04_error_handling.ipynb",
    ),
    Question(
        "max_output",
        "What happens when an answer reaches max_output_tokens?",
        "choice",
        "Generation stops at exactly that many tokens and the response has status "
        "'incomplete' (reason max_output_tokens). You pay only for what was generated, but a "
        "cut-off JSON answer will not parse: check the status before using the text.",
        options=(
            "The request fails with a 400 error",
            "The model rewrites its answer to fit",
            "It stops there and the response says status 'incomplete'",
            "The extra tokens are generated but not billed",
        ),
        correct=(2,),
        lesson="02_prompt_efficiency.ipynb",
    ),
    Question(
        "jitter",
        "A thousand clients were rate-limited at the same moment. Why add jitter to their "
        "backoff?",
        "choice",
        "Without jitter they all wait exactly 1 s, 2 s, 4 s and come back together, so the "
        "server sees the same spike again (a thundering herd). Random jitter spreads their "
        "retries over the window.",
        options=(
            "Jitter makes each retry cheaper",
            "So they do not all retry at the same instant and collide again",
            "The service requires a random delay",
            "Jitter lowers the number of retries",
        ),
        correct=(1,),
        lesson="03_rate_limits_backoff.ipynb",
    ),
    Question(
        "double_retry",
        "Your loop retries up to 3 times, and the SDK client keeps its default of 2 retries. "
        "At most how many HTTP requests can one call send?",
        "number",
        "Each of your 1 + 3 attempts is itself 1 + 2 SDK attempts: 4 × 3 = 12 requests. Retry "
        "in one place: set max_retries=0 on the client when you retry yourself.",
        number=12,
        lesson="03_rate_limits_backoff.ipynb",
    ),
    Question(
        "pacing",
        "Your limits are 600 requests and 600,000 tokens per minute, and each request uses "
        "about 1,500 tokens. How many requests per minute can you sustain?",
        "number",
        "Tokens run out first: 600,000 / 1,500 = 400 requests a minute, below the 600 RPM "
        "limit. Pace for the smaller of the two ceilings.",
        number=400,
        lesson="03_rate_limits_backoff.ipynb",
    ),
    Question(
        "reasoning",
        "A reasoning model with max_output_tokens=50 returns status 'incomplete' and empty "
        "text. Why?",
        "choice",
        "Reasoning models spend hidden reasoning tokens before the visible answer, and those "
        "count against max_output_tokens (and are billed as output). Raise the cap or lower "
        "reasoning effort.",
        options=(
            "The prompt was too long",
            "Its hidden reasoning tokens used up the whole output cap",
            "The model refused the question",
            "max_output_tokens must be at least 100",
        ),
        correct=(1,),
        lesson="02_prompt_efficiency.ipynb",
    ),
    Question(
        "quota",
        "Two 429 errors arrive: one with code rate_limit_exceeded, one with type "
        "insufficient_quota. What should your code do?",
        "choice",
        "Same status, opposite actions: a rate limit passes, so wait and retry; an exhausted "
        "quota does not, so stop sending and tell someone to fix billing.",
        options=(
            "Retry both with backoff",
            "Retry the rate limit with backoff; stop on the quota error",
            "Stop on both",
            "Retry the quota error at once; ignore the rate limit",
        ),
        correct=(1,),
        lesson="04_error_handling.ipynb",
    ),
    Question(
        "logging",
        "What should a log line for a failed API call contain?",
        "multi",
        "Enough to debug without leaking: the operation, the model, the attempt, the error "
        "category and the request id. Never the API key, and not the whole prompt unless you "
        "have a reason (it can hold personal data).",
        options=(
            "The operation and model",
            "The attempt number and error category",
            "The API key, to know who called",
            "The request id the service returned",
        ),
        correct=(0, 1, 3),
        lesson="04_error_handling.ipynb",
    ),
)  # fmt: skip

_L01, _L02 = "01_tokens.ipynb", "02_prompt_efficiency.ipynb"
_L03, _L04 = "03_rate_limits_backoff.ipynb", "04_error_handling.ipynb"

CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("Tokens", "Keep prompts concise; say the shape you want", _L02),
    ChecklistItem("Tokens", "Ask for structured output when code reads it", _L02),
    ChecklistItem("Tokens", "Set max_output_tokens and check for 'incomplete'", _L02),
    ChecklistItem("Tokens", "Count tokens before sending; chunk what is too long", _L01),
    ChecklistItem("Tokens", "Trim or summarise long history; send only relevant context", _L01),
    ChecklistItem("Rate limits", "Expect 429s and read the rate-limit headers", _L03),
    ChecklistItem("Rate limits", "Retry with exponential backoff and jitter", _L03),
    ChecklistItem("Rate limits", "Cap the number of retries; retry in one place only", _L03),
    ChecklistItem("Rate limits", "Pace requests locally below RPM and TPM", _L03),
    ChecklistItem("Errors", "Catch specific exceptions, subclasses first", _L04),
    ChecklistItem("Errors", "Retry only transient failures; fail fast on the rest", _L04),
    ChecklistItem("Errors", "Log operation, attempt, category, request id; never the key", _L04),
    ChecklistItem("Errors", "Return structured results so a batch keeps going", _L04),
)

_WORD = re.compile(r"[a-z0-9]+")


def _normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _says(answer: str, phrasing: str) -> bool:
    """Does the normalised answer contain the phrasing, starting at a word boundary?"""
    return f" {_normalise(phrasing)}" in f" {answer}"


def _lesson_note(q: Question) -> str:
    return f" (See notebooks/{q.lesson}.)" if q.lesson else ""


def model_answer(question: Question) -> str:
    """The model answer, for a learner who asks for it (or who missed twice)."""
    return f"Model answer: {question.explanation}{_lesson_note(question)}"


def grade(question: Question, answer: object, attempt: int = 1) -> Feedback:
    """Judge one answer: ``int`` for "choice", indexes for "multi", text or int otherwise.

    ``attempt`` counts the learner's answered tries at this question (1 for the first): a
    wrong first try gets a nudge, a wrong second one the model answer.
    """
    unanswered = Feedback(False, "Choose or type an answer first, then press Check.", False)
    nudge = "Think again and try once more (or press Show answer)."
    if question.kind == "choice":
        if not isinstance(answer, int) or isinstance(answer, bool):
            return unanswered
        right = answer in question.correct
    elif question.kind == "multi":
        if not isinstance(answer, Sequence) or isinstance(answer, str):
            return unanswered
        picked = set(answer)
        if not picked:
            return unanswered
        right = picked == set(question.correct)
        nudge = f"Tick every right option ({len(question.correct)} of them). {nudge}"
    elif question.kind == "number":
        text = str(answer).strip().replace(",", "").replace("_", "")
        if not text:
            return unanswered
        try:
            right = float(text) == question.number
        except ValueError:
            return Feedback(False, f"Type a whole number (you typed {str(answer)!r}).", False)
    elif question.kind == "short":
        said = _normalise(str(answer or ""))
        if len(said.split()) < 2:
            return Feedback(False, "Write a short sentence, then press Check.", False)
        missing = [i for i in question.ideas if not any(_says(said, p) for p in i.phrasings)]
        right = not missing
        if missing:
            nudge = f"Your answer is missing {missing[0].name}. {nudge}"
    else:  # a course bug, not a learner's mistake
        raise ValueError(f"question {question.id!r} has unknown kind {question.kind!r}")
    if right:
        return Feedback(True, f"Correct. {question.explanation}{_lesson_note(question)}")
    if attempt < 2:
        return Feedback(False, f"Not yet. {nudge}")
    return Feedback(False, f"Not yet. {model_answer(question)}")


def score_line(results: dict[str, Feedback], total: int | None = None) -> str:
    """'Score: 7 of 11 correct (9 answered)' — the line shown under the quiz."""
    total = len(QUESTIONS) if total is None else total
    answered = sum(1 for f in results.values() if f.answered)
    correct = sum(1 for f in results.values() if f.correct)
    return f"Score: {correct} of {total} correct ({answered} answered)"
