"""Notebook widgets: thin ipywidgets views over plain functions in the other modules.

The logic lives in ``prompting`` and ``plots`` (unit-tested there); a widget only reads its
controls, calls those functions and writes the results into its own child widgets, so tests
can press a button by calling the callback and then read the widget's state.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as w
import traitlets
from IPython.display import HTML

from .aria_widgets import ChoiceGroup, StatusLine
from .pricing import DEFAULT_MODEL, get_model, list_models
from .prompting import (
    EFFORT_ORDER,
    PromptRun,
    compare_runs,
    lowest_effort,
    run_prompt,
    run_prompts_streaming,
    token_spans,
)
from .quiz import (
    CHECKLIST,
    QUESTIONS,
    ChecklistItem,
    Feedback,
    Question,
    grade,
    model_answer,
    score_line,
)

__all__ = ["PromptComparer", "friendly_error", "show_tokens", "token_html"]

_SPAN_COLOURS = ("#cfe3ff", "#ffe0b3")
_MULTI_COLOUR = "#f7c6d0"  # a character that took more than one token

DEFAULT_PROMPT_A = (
    "Please explain what tokens are in language models. Make it comprehensive, helpful and "
    "detailed, with examples, and make sure it is not too short but also not too long."
)
DEFAULT_PROMPT_B = "Explain tokens in language models in 3 bullet points, under 60 words."


def token_html(text: str, model: str = DEFAULT_MODEL) -> str:
    """HTML that shows each token of ``text`` on an alternating background (escaped)."""
    spans = token_spans(text, model)
    parts = []
    for i, span in enumerate(spans):
        colour = _MULTI_COLOUR if span.tokens > 1 else _SPAN_COLOURS[i % 2]
        shown = html.escape(span.text).replace(" ", "&nbsp;").replace("\n", "&#8629;<br>")
        tip = f"{span.tokens} tokens" if span.tokens > 1 else "1 token"
        parts.append(
            f'<span title="{tip}" style="background:{colour};border-radius:3px;'
            f'padding:1px 0;margin:0 1px;font-family:monospace">{shown}</span>'
        )
    total = sum(s.tokens for s in spans)
    return (
        f'<div style="line-height:2">{"".join(parts)}</div>'
        f"<div><small>{_plural(total, 'token')}, {_plural(len(text), 'character')} "
        f"({html.escape(model)})</small></div>"
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def show_tokens(text: str, model: str = DEFAULT_MODEL) -> HTML:
    """Render the token boundaries of ``text`` in colour, for a notebook cell."""
    return HTML(token_html(text, model))


def friendly_error(exc: BaseException) -> str:
    """One plain-language line for an error shown in a widget (never a traceback).

    API errors get the course's advice for their category (``errors.classify``), so the widget
    says the same thing as lesson 04's table.
    """
    import openai

    from .errors import classify

    name = type(exc).__name__
    message = (getattr(exc, "message", None) or str(exc) or name).rstrip(".")
    if isinstance(exc, openai.APIError):
        return f"{name}: {message}. {classify(exc).advice}"
    if isinstance(exc, openai.OpenAIError):  # e.g. the spend cap: its message says what to do
        return f"{name}: {message}."
    return f"{name}: {message}. Fix the input above and press Run again."


class FigureImage(w.Image):
    """A figure whose ``tooltip`` is its text alternative: the ``title`` a screen reader reads.

    ipywidgets 8 writes a tooltip as the title only when the widget's ``description`` is empty,
    and an Image has none (its view then fails to draw), so this one carries an empty one.
    """

    description = traitlets.Unicode("").tag(sync=True)


class PromptComparer:
    """Two prompts side by side: run both, compare answers, tokens, cost and latency.

    With **Stream answers** ticked both prompts are streamed at once and each answer grows as
    its tokens arrive, with its time to first token under it (on the simulator at the
    catalogue's full latency, ``stream_headers``, so the arrival is visible; live ignores it).
    """

    REDRAW_EVERY_S = 0.05  # a growing answer is redrawn at most this often

    def __init__(
        self,
        client: Any = None,
        *,
        prompt_a: str = DEFAULT_PROMPT_A,
        prompt_b: str = DEFAULT_PROMPT_B,
        model: str = DEFAULT_MODEL,
        max_output_tokens: int = 200,
    ) -> None:
        self._client = client
        # Streams on the simulator run at the catalogue's full latency; the live API ignores it.
        self.stream_headers = {"X-Sim-Latency-Scale": "1"}
        self._arrived = ["", ""]  # the text each streamed answer has received so far
        self.runs: tuple[PromptRun, PromptRun] | None = None
        self.error: str | None = None
        box = w.Layout(width="100%", height="110px")
        self.prompt_a = w.Textarea(value=prompt_a, description="Prompt A", layout=box)
        self.prompt_b = w.Textarea(value=prompt_b, description="Prompt B", layout=box)
        self.model = w.Dropdown(
            options=[m.id for m in list_models()], value=model, description="Model"
        )
        # Reasoning models spend hidden tokens inside the output cap: the comparer starts at
        # the least reasoning the model takes, so a small cap still leaves room for an answer.
        self.effort = w.Dropdown(description="Reasoning", layout=w.Layout(width="210px"))
        self.model.observe(self._follow_model, names="value")
        self._follow_model()
        # A number box, not a slider: its label names it for a screen reader (an ipywidgets
        # slider handle has no accessible name), and its arrow keys step by 8 in JupyterLab.
        self.max_output_tokens = w.BoundedIntText(
            value=max_output_tokens, min=16, max=1000, step=8, description="Max output",
            layout=w.Layout(width="190px"),
        )  # fmt: skip
        self.stream = w.Checkbox(
            value=False, description="Stream answers", indent=False, layout=w.Layout(width="140px")
        )
        self.run_button = w.Button(description="Run both", button_style="primary", icon="play")
        self.run_button.on_click(self._on_run)
        self.status = w.HTML(value=_IDLE_STATUS)
        # Answers are plain, selectable text (HTML), not disabled text boxes: a disabled box
        # draws its text grey on white, which is hard to read.
        self.answer_a = w.HTML(layout=w.Layout(width="100%")).add_class("course-answer")
        self.answer_b = w.HTML(layout=w.Layout(width="100%")).add_class("course-answer")
        self.stats_a = w.HTML()
        self.stats_b = w.HTML()
        # The chart's tooltip is its text alternative; it keeps its own size (a VBox would
        # stretch it to the column's width, blurred).
        chart_layout = w.Layout(max_width="100%", align_self="flex-start")
        self.chart = FigureImage(format="png", layout=chart_layout).add_class("course-figure")
        self.theme = w.HTML(value=THEME_CSS)
        self.widget = w.VBox(
            [
                w.HBox(
                    [
                        w.VBox([self.prompt_a], layout=_half()),
                        w.VBox([self.prompt_b], layout=_half()),
                    ]
                ),
                w.HBox(
                    [self.model, self.effort, self.max_output_tokens, self.stream, self.run_button]
                ),
                self.status,
                w.HBox(
                    [
                        w.VBox([self.answer_a, self.stats_a], layout=_half()),
                        w.VBox([self.answer_b, self.stats_b], layout=_half()),
                    ]
                ),
                self.chart,
                self.theme,
            ]
        ).add_class("course-prompt-comparer")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def client(self) -> Any:
        """The client given, or the course's default one (simulator or live) on first use."""
        if self._client is None:
            from .client import get_client

            self._client = get_client()
        return self._client

    def _follow_model(self, _change: Any = None) -> None:
        """Offer the chosen model's reasoning efforts, starting at its lowest (none if it
        does not reason)."""
        lowest = lowest_effort(self.model.value)
        if lowest is None:
            self.effort.options = [("n/a (no reasoning)", "")]
            self.effort.value, self.effort.disabled = "", True
            return
        efforts = get_model(self.model.value).reasoning_efforts
        self.effort.options = [(e, e) for e in sorted(efforts, key=EFFORT_ORDER.index)]
        self.effort.value, self.effort.disabled = lowest, False

    def _on_run(self, _button: Any = None) -> None:
        """Button callback: run both prompts and show the results (errors as a message)."""
        self.run_button.disabled = True
        self.status.value = "Running…"
        try:
            self.run()
        finally:
            self.run_button.disabled = False

    def clear(self) -> None:
        """Remove the last answers, numbers and chart, so nothing stale stays on screen."""
        self.runs = None
        self.answer_a.value = self.answer_b.value = ""
        self.stats_a.value = self.stats_b.value = ""
        self.chart.value, self.chart.tooltip = b"", None

    def run(self) -> tuple[PromptRun, PromptRun] | None:
        """Send both prompts with the chosen model and cap; fill in answers, stats and chart.

        On any error the old results are cleared and the status line says what went wrong
        (which prompt, for an empty one); ``self.error`` holds the same text.
        """
        self.error = None
        self.clear()
        empty = [
            name
            for name, box in (("Prompt A", self.prompt_a), ("Prompt B", self.prompt_b))
            if not box.value.strip()
        ]
        if empty:
            verb, where = ("is", "it") if len(empty) == 1 else ("are", "each")
            self._fail(
                f"{' and '.join(empty)} {verb} empty: type a prompt into {where} and press Run "
                "both again."
            )
            return None
        try:
            cap = int(self.max_output_tokens.value)
            settings = {
                "model": self.model.value,
                "max_output_tokens": cap,
                "reasoning_effort": self.effort.value or None,
            }
            prompts = (self.prompt_a.value, self.prompt_b.value)
            if self.stream.value:
                runs = self._stream_both(prompts, settings)
            else:
                runs = tuple(run_prompt(self.client, p, **settings) for p in prompts)
        except Exception as exc:  # the widget must explain, never show a traceback
            self._fail(friendly_error(exc))
            self._mark_stopped()
            return None
        a, b = runs
        self.runs = (a, b)
        self.answer_a.value = _answer_html("Answer A", a)
        self.answer_b.value = _answer_html("Answer B", b)
        self.stats_a.value, self.stats_b.value = _stats_html(a), _stats_html(b)
        self.status.value = html.escape(compare_runs(a, b).summary())
        from .plots import comparer_figure, figure_png  # here: matplotlib only when drawing

        fig = comparer_figure(["A", "B"], [a.input_tokens, b.input_tokens],
                              [a.output_tokens, b.output_tokens])  # fmt: skip
        self.chart.value = figure_png(fig)
        self.chart.tooltip = (
            f"Chart of tokens per prompt. A: {a.input_tokens:,} in, {a.output_tokens:,} out; "
            f"B: {b.input_tokens:,} in, {b.output_tokens:,} out."
        )
        return self.runs

    def _stream_both(self, prompts: tuple[str, str], settings: dict[str, Any]) -> tuple:
        """Stream both prompts at once, redrawing each answer as its text grows."""
        self.status.value = "Streaming both answers…"
        boxes = ((self.answer_a, "Answer A"), (self.answer_b, "Answer B"))
        texts, drawn = self._arrived, [0.0, 0.0]
        texts[:] = ["", ""]
        lock = threading.Lock()

        def show(i: int, piece: str) -> None:
            with lock:
                texts[i] += piece
                now = time.monotonic()
                if now - drawn[i] >= self.REDRAW_EVERY_S:
                    drawn[i] = now
                    box, label = boxes[i]
                    box.value = _box_html(label, html.escape(texts[i]) + " ▌")

        def done(i: int, run: PromptRun) -> None:
            with lock:
                texts[i] = ""  # finished: nothing left to mark if the other one fails
                box, label = boxes[i]
                box.value = _answer_html(label, run)

        return tuple(
            run_prompts_streaming(
                self.client, prompts, on_delta=show, on_done=done,
                extra_headers=self.stream_headers, **settings,
            )
        )  # fmt: skip

    def _mark_stopped(self) -> None:
        """After a failed streaming run: keep the text that arrived, marked as unfinished
        (an answer that finished keeps its finished form)."""
        boxes = ((self.answer_a, "Answer A"), (self.answer_b, "Answer B"))
        for (box, label), text in zip(boxes, self._arrived, strict=True):
            if text:
                note = " <i>[… stopped here: see the problem above]</i>"
                box.value = _box_html(label, html.escape(text) + note)
        self._arrived[:] = ["", ""]

    def _fail(self, message: str) -> None:
        """Show ``message`` as the widget's status (results are already cleared)."""
        self.error = message
        self.status.value = f'<span style="{ERROR_STYLE}">⚠ Problem: {html.escape(message)}</span>'


_IDLE_STATUS = "Press <b>Run both</b> to send both prompts."
# JupyterLab's theme colours, so a warning is readable in the light and the dark theme alike
# (a fixed dark red was 2.58:1 on the dark background); the fallback is for other front ends.
ERROR_STYLE = "color:var(--jp-error-color1, #b00020)"
# Figures are drawn on white. In a dark theme (JupyterLab marks the page with
# data-jp-theme-light="false") the widgets' figures are inverted, with the hues turned back, so
# they follow the theme instead of glaring white. The style applies to .course-figure only.
THEME_CSS = (
    "<style>body[data-jp-theme-light='false'] .course-figure"
    "{filter:invert(0.9) hue-rotate(180deg)}</style>"
)


def _half() -> w.Layout:
    return w.Layout(width="50%")


def _answer_html(label: str, run: PromptRun) -> str:
    """The answer as readable, wrapped text under its label (escaped; empty text explained)."""
    if run.output_text:
        body = html.escape(run.output_text)
    else:
        body = "<i>(no text: the output cap was used up before any answer was written)</i>"
    return _box_html(label, body)


def _box_html(label: str, body: str) -> str:
    """``body`` (already escaped) in the answer box under its label. The box scrolls, so it
    takes keyboard focus (tabindex) and is a named region: a keyboard user can scroll it too."""
    return (
        f"<b>{label}</b>"
        f'<div tabindex="0" role="region" aria-label="{label}" '
        'style="white-space:pre-wrap;line-height:1.4;max-height:260px;overflow:auto;'
        "border:1px solid var(--jp-border-color1, #c8c8c8);border-radius:4px;padding:6px 8px;"
        f'margin:4px 0;color:var(--jp-content-font-color1, #111)">{body}</div>'
    )


def _stats_html(run: PromptRun) -> str:
    cut = (
        f' <b style="{ERROR_STYLE}">cut at {run.max_output_tokens} tokens (incomplete)</b>'
        if run.truncated
        else ""
    )
    reasoning = f" ({run.reasoning_tokens:,} reasoning)" if run.reasoning_effort is not None else ""
    timing = f"{run.latency_s * 1000:.0f} ms"
    if run.first_token_s is not None:
        timing = f"first token {run.first_token_s * 1000:.0f} ms, done {timing}"
    return (
        f"<small>{run.input_tokens:,} in + {run.output_tokens:,} out tokens{reasoning} · "
        f"${run.cost_usd:.6f} (${run.cost_usd * 1000:.3f} per 1,000) · "
        f"{timing}{cut}</small>"
    )


# --- RetryTimeline (lesson 03) -----------------------------------------------------------------
# Imports stay inside the class so this section stands alone; the logic and the figure are
# plain functions in ``timeline`` and ``backoff``.

__all__ += ["RetryTimeline"]


class RetryTimeline:
    """Many clients retrying the same failure: move a control, see the herd form or spread.

    Controls (each with a fixed description, so tests and screen readers can find it): base
    delay, factor, cap, max retries, jitter kind and number of clients. The figure is an
    ``Image`` whose bytes are replaced in place on every change (no clearing, no flicker); the
    summary line under it says the same numbers in words.
    """

    RATE_PER_S = 4.0  # the simulated server: 4 requests a second, bursts of 4
    BURST = 4

    def __init__(
        self,
        *,
        base_s: float = 1.0,
        factor: float = 2.0,
        cap_s: float = 8.0,
        max_retries: int = 4,
        jitter: str = "none",
        clients: int = 20,
        seed: int = 0,
    ) -> None:
        from .backoff_extras import JITTERS

        self.seed = seed
        self.run_result: Any = None
        # Number boxes, not sliders: each is named by its label for a screen reader (an
        # ipywidgets slider handle has no accessible name) and steps with the arrow keys, which
        # JupyterLab leaves to a text field. A typed number redraws on Enter or Tab.
        style = {"description_width": "110px"}
        box = w.Layout(width="220px")
        self.base = w.BoundedFloatText(
            value=base_s, min=0.1, max=4.0, step=0.1, description="Base delay (s)",
            continuous_update=False, style=style, layout=box,
        )  # fmt: skip
        self.factor = w.BoundedFloatText(
            value=factor, min=1.0, max=4.0, step=0.5, description="Factor",
            continuous_update=False, style=style, layout=box,
        )  # fmt: skip
        self.cap = w.BoundedFloatText(
            value=cap_s, min=0.5, max=60.0, step=0.5, description="Cap (s)",
            continuous_update=False, style=style, layout=box,
        )  # fmt: skip
        self.max_retries = w.BoundedIntText(
            value=max_retries, min=0, max=10, description="Max retries",
            continuous_update=False, style=style, layout=box,
        )  # fmt: skip
        # Buttons, not a dropdown: in JupyterLab the arrow keys move the active cell, so a
        # dropdown cannot be changed from the keyboard there; a button is Tab, then Space.
        self.jitter = w.ToggleButtons(
            options=list(JITTERS), value=jitter, description="Jitter", style={
                "description_width": "initial", "button_width": "92px"},
            tooltips=[f"{name} jitter" for name in JITTERS],
        )  # fmt: skip
        self.clients = w.BoundedIntText(
            value=clients, min=1, max=60, description="Clients",
            continuous_update=False, style=style, layout=box,
        )  # fmt: skip
        self.image = FigureImage(
            format="png", layout=w.Layout(width="900px", max_width="100%")
        ).add_class("course-figure")
        self.summary = w.HTML()
        self.controls = (
            self.base, self.factor, self.cap, self.max_retries, self.jitter, self.clients
        )  # fmt: skip
        for control in self.controls:
            control.observe(self._on_change, names="value")
        self.widget = w.VBox(
            [
                self.jitter,
                w.HBox([w.VBox([self.clients, self.max_retries]),
                        w.VBox([self.base, self.factor, self.cap])]),
                self.summary,
                self.image,
                w.HTML(value=THEME_CSS),
            ]
        ).add_class("course-retry-timeline")  # fmt: skip
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _on_change(self, _change: Any = None) -> None:
        self.update()

    def update(self) -> None:
        """Re-run the simulation for the current controls and replace the figure and summary."""
        from .backoff_extras import make_schedule
        from .plots import figure_png
        from .timeline import retry_timeline_figure, simulate_retries

        try:
            schedule = make_schedule(
                str(self.jitter.value), float(self.base.value), float(self.factor.value),
                float(self.cap.value),
            )  # fmt: skip
            run = simulate_retries(
                int(self.clients.value), schedule, int(self.max_retries.value),
                rate_per_s=self.RATE_PER_S, burst=self.BURST, seed=self.seed,
            )  # fmt: skip
        except (ValueError, TypeError) as exc:  # the widget explains, never a traceback
            self.summary.value = f"<b>⚠ {html.escape(str(exc))}</b>"
            return
        self.run_result = run
        worst = run.busiest_slot(0.5)
        self.summary.value = (
            f'<div role="status" aria-live="polite">{html.escape(run.summary())} '
            f"Busiest half-second: {worst} requests against a server that refills "
            f"{self.RATE_PER_S * 0.5:g}.</div>"
        )
        fig = retry_timeline_figure(run, slot_s=0.5)
        self.image.value = figure_png(fig)
        jitter = "no" if self.jitter.value == "none" else self.jitter.value
        self.image.tooltip = f"Retry timeline with {jitter} jitter. {run.summary()}"


# --- Quiz and Checklist (lesson 07) ----------------------------------------------------------
# Grading and the questions are plain data and functions in ``quiz``.

__all__ += ["Checklist", "Quiz"]


class Quiz:
    """The wrap-up knowledge check: answer, press Check, read why; a score at the bottom.

    Grading is ``quiz.grade`` (plain data and a pure function); this class only wires controls
    and counts each question's tries, so the model answer appears after a second wrong try or
    on **Show answer**. Tests call ``answer(id, value)``, ``check(id)`` and ``show_answer(id)``
    as a learner's clicks would.
    """

    def __init__(self, questions: tuple[Question, ...] = QUESTIONS) -> None:
        self.questions = {q.id: q for q in questions}
        self.results: dict[str, Feedback] = {}
        self.tries: dict[str, int] = {q.id: 0 for q in questions}
        self._inputs: dict[str, Any] = {}
        self._feedback: dict[str, StatusLine] = {}
        self.score = w.HTML(value=score_line({}, len(questions)))
        rows = []
        for number, q in enumerate(questions, start=1):
            title = f"{number}. {q.prompt}"
            control = self._control(q, title)
            fits = w.Layout(width="auto")  # "Check answer 10" is cut to "Check answer …" at 148px
            button = w.Button(description=f"Check answer {number}", icon="check", layout=fits)
            button.on_click(lambda _b, qid=q.id: self.check(qid))
            reveal = w.Button(description=f"Show answer {number}", layout=fits)
            reveal.on_click(lambda _b, qid=q.id: self.show_answer(qid))
            feedback = StatusLine()
            self._inputs[q.id], self._feedback[q.id] = control, feedback
            # an option group shows its question (its name for a screen reader); a box does not
            heading = [] if q.options else [w.HTML(value=f"<b>{html.escape(title)}</b>")]
            rows.append(w.VBox([*heading, control, w.HBox([button, reveal]), feedback]))
        self.widget = w.VBox([*rows, self.score]).add_class("course-quiz")

    @staticmethod
    def _control(q: Question, title: str) -> Any:
        if q.options:  # "choice" (radios) or "multi" (checkboxes), in a group named by the title
            return ChoiceGroup(label=title, options=list(q.options), multiple=q.kind == "multi")
        placeholder = "a whole number" if q.kind == "number" else "one or two sentences"
        return w.Text(placeholder=placeholder, layout=w.Layout(width="60%"))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def answer(self, qid: str, value: Any) -> None:
        """Set question ``qid``'s control: an option's text or index, a list of them, or text."""
        q, control = self.questions[qid], self._inputs[qid]
        if q.options:
            picked = [value] if q.kind == "choice" else list(value)
            control.value = [v if isinstance(v, int) else q.options.index(v) for v in picked]
        else:
            control.value = str(value)

    def _response(self, q: Question) -> Any:
        control = self._inputs[q.id]
        if q.kind == "choice":
            return control.value[0] if control.value else None
        return control.value

    def check(self, qid: str) -> Feedback:
        """Grade one question, show its feedback, update the score."""
        q = self.questions[qid]
        result = grade(q, self._response(q), attempt=self.tries[qid] + 1)
        if result.answered:
            self.tries[qid] += 1
            self.results[qid] = result
        # The symbol is decoration (a box without an emoji font): screen readers read the word.
        symbol, word = {True: ("✅", "Correct"), False: ("❌", "Not yet")}[result.correct]
        mark = f'<span aria-hidden="true">{symbol}</span> {word}' if result.answered else "Note"
        colour = "var(--jp-success-color1, #1a7f37)" if result.correct else "inherit"
        # the mark already says Correct / Not yet: show the explanation once, after it
        text = html.escape(result.message.removeprefix("Correct. ").removeprefix("Not yet. "))
        self._show(qid, f'<span style="color:{colour}"><b>{mark}:</b> {text}</span>')
        self.score.value = f"<b>{score_line(self.results, len(self.questions))}</b>"
        return result

    def show_answer(self, qid: str) -> str:
        """Show question ``qid``'s model answer (it does not change the score)."""
        text = model_answer(self.questions[qid])
        self._show(qid, html.escape(text))
        return text

    def _show(self, qid: str, body: str) -> None:
        self._feedback[qid].value = body  # a StatusLine: a live region, so it is read out


class Checklist:
    """The best-practices checklist: tick what your code does; a count shows progress."""

    def __init__(self, items: tuple[ChecklistItem, ...] = CHECKLIST) -> None:
        self.items = items
        self.boxes: list[w.Checkbox] = []
        parts: list[Any] = []
        area = None
        for item in items:
            if item.area != area:
                area = item.area
                parts.append(w.HTML(value=f"<b>{html.escape(area)}</b>"))
            box = w.Checkbox(
                value=False, description=f"{item.text} (notebooks/{item.lesson})", indent=False
            )
            box.layout.width = "auto"
            box.observe(self._update, names="value")
            self.boxes.append(box)
            parts.append(box)
        self.progress = w.HTML()
        self._update()
        self.widget = w.VBox([*parts, self.progress]).add_class("course-checklist")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def done(self) -> int:
        return sum(box.value for box in self.boxes)

    def _update(self, _change: Any = None) -> None:
        total = len(self.boxes)
        left = total - self.done
        note = "all done" if left == 0 else f"{left} to go"
        self.progress.value = f"<b>{self.done} of {total} ticked</b> ({note})"
