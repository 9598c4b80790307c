"""Notebook widgets: thin ipywidgets views over plain functions in the other modules.

The logic lives in ``prompting`` and ``plots`` (unit-tested there); a widget only reads its
controls, calls those functions and writes the results into its own child widgets, so tests
can press a button by calling the callback and then read the widget's state.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import ipywidgets as w
from IPython.display import HTML

from .plots import comparer_figure, figure_png
from .pricing import DEFAULT_MODEL, list_models
from .prompting import PromptRun, compare_runs, run_prompt, token_spans
from .quiz import CHECKLIST, QUESTIONS, ChecklistItem, Feedback, Question, grade, score_line

__all__ = ["Checklist", "PromptComparer", "Quiz", "friendly_error", "show_tokens", "token_html"]

_SPAN_COLOURS = ("#cfe3ff", "#ffe0b3")
_MULTI_COLOUR = "#f7c6d0"  # a character that took more than one token

DEFAULT_PROMPT_A = (
    "Please write a comprehensive, helpful and detailed explanation of what tokens are in "
    "language models, with examples, and make sure it is not too short but also not too long."
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


class PromptComparer:
    """Two prompts side by side: run both, compare answers, tokens, cost and latency."""

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
        self.runs: tuple[PromptRun, PromptRun] | None = None
        self.error: str | None = None
        box = w.Layout(width="100%", height="110px")
        self.prompt_a = w.Textarea(value=prompt_a, description="Prompt A", layout=box)
        self.prompt_b = w.Textarea(value=prompt_b, description="Prompt B", layout=box)
        self.model = w.Dropdown(
            options=[m.id for m in list_models()], value=model, description="Model"
        )
        self.max_output_tokens = w.IntSlider(
            value=max_output_tokens, min=16, max=1000, step=8, description="Max output"
        )
        self.run_button = w.Button(description="Run both", button_style="primary", icon="play")
        self.run_button.on_click(self._on_run)
        self.status = w.HTML(value="Press <b>Run both</b> to send both prompts.")
        answer_box = w.Layout(width="100%", height="180px")
        self.answer_a = w.Textarea(description="Answer A", disabled=True, layout=answer_box)
        self.answer_b = w.Textarea(description="Answer B", disabled=True, layout=answer_box)
        self.stats_a = w.HTML()
        self.stats_b = w.HTML()
        self.chart = w.Output()
        self.widget = w.VBox(
            [
                w.HBox(
                    [
                        w.VBox([self.prompt_a], layout=_half()),
                        w.VBox([self.prompt_b], layout=_half()),
                    ]
                ),
                w.HBox([self.model, self.max_output_tokens, self.run_button]),
                self.status,
                w.HBox(
                    [
                        w.VBox([self.answer_a, self.stats_a], layout=_half()),
                        w.VBox([self.answer_b, self.stats_b], layout=_half()),
                    ]
                ),
                self.chart,
            ]
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def client(self) -> Any:
        """The client given, or the course's default one (simulator or live) on first use."""
        if self._client is None:
            from .client import get_client

            self._client = get_client()
        return self._client

    def _on_run(self, _button: Any = None) -> None:
        """Button callback: run both prompts and show the results (errors as a message)."""
        self.run_button.disabled = True
        self.status.value = "Running…"
        try:
            self.run()
        finally:
            self.run_button.disabled = False

    def run(self) -> tuple[PromptRun, PromptRun] | None:
        """Send both prompts with the chosen model and cap; fill in answers, stats and chart."""
        self.error = None
        try:
            cap = int(self.max_output_tokens.value)
            runs = tuple(
                run_prompt(self.client, p, model=self.model.value, max_output_tokens=cap)
                for p in (self.prompt_a.value, self.prompt_b.value)
            )
        except Exception as exc:  # the widget must explain, never show a traceback
            self.runs = None
            self.error = friendly_error(exc)
            self.status.value = f'<span style="color:#b00020">⚠ {html.escape(self.error)}</span>'
            return None
        a, b = runs
        self.runs = (a, b)
        self.answer_a.value, self.answer_b.value = a.output_text, b.output_text
        self.stats_a.value, self.stats_b.value = _stats_html(a), _stats_html(b)
        self.status.value = html.escape(compare_runs(a, b).summary())
        fig = comparer_figure(["A", "B"], [a.input_tokens, b.input_tokens],
                              [a.output_tokens, b.output_tokens])  # fmt: skip
        png = base64.b64encode(figure_png(fig)).decode("ascii")
        self.chart.outputs = (
            {
                "output_type": "display_data",
                "data": {"image/png": png, "text/plain": "<tokens per prompt chart>"},
                "metadata": {},
            },
        )
        return self.runs


def _half() -> w.Layout:
    return w.Layout(width="50%")


def _stats_html(run: PromptRun) -> str:
    cut = (
        f' <b style="color:#b00020">cut at {run.max_output_tokens} tokens (incomplete)</b>'
        if run.truncated
        else ""
    )
    return (
        f"<small>{run.input_tokens:,} in + {run.output_tokens:,} out tokens · "
        f"${run.cost_usd:.6f} (${run.cost_usd * 1000:.3f} per 1,000) · "
        f"{run.latency_s * 1000:.0f} ms{cut}</small>"
    )


class Quiz:
    """The wrap-up knowledge check: answer, press Check, read why; a score at the bottom.

    Grading is ``quiz.grade`` (plain data and a pure function); this class only wires controls.
    Tests call ``answer(id, value)`` and ``check(id)`` as a learner's clicks would.
    """

    def __init__(self, questions: tuple[Question, ...] = QUESTIONS) -> None:
        self.questions = {q.id: q for q in questions}
        self.results: dict[str, Feedback] = {}
        self._inputs: dict[str, Any] = {}
        self._feedback: dict[str, w.HTML] = {}
        self.score = w.HTML(value=score_line({}, len(questions)))
        rows = []
        for number, q in enumerate(questions, start=1):
            control = self._control(q)
            button = w.Button(description=f"Check answer {number}", icon="check")
            button.on_click(lambda _b, qid=q.id: self.check(qid))
            feedback = w.HTML(value="")
            self._inputs[q.id], self._feedback[q.id] = control, feedback
            title = w.HTML(value=f"<b>{number}. {html.escape(q.prompt)}</b>")
            rows.append(w.VBox([title, control, button, feedback]))
        self.widget = w.VBox([*rows, self.score])

    @staticmethod
    def _control(q: Question) -> Any:
        wide = w.Layout(width="auto")
        if q.kind == "choice":
            return w.RadioButtons(options=list(q.options), value=None, layout=wide)
        if q.kind == "multi":
            boxes = [w.Checkbox(value=False, description=o, indent=False) for o in q.options]
            return w.VBox(boxes)
        placeholder = "a whole number" if q.kind == "number" else "one or two sentences"
        return w.Text(placeholder=placeholder, layout=w.Layout(width="60%"))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def answer(self, qid: str, value: Any) -> None:
        """Set question ``qid``'s control: an option's text or index, a list of them, or text."""
        q, control = self.questions[qid], self._inputs[qid]
        if q.kind == "choice":
            control.value = q.options[value] if isinstance(value, int) else value
        elif q.kind == "multi":
            picked = {q.options[v] if isinstance(v, int) else v for v in value}
            for box in control.children:
                box.value = box.description in picked
        else:
            control.value = str(value)

    def _response(self, q: Question) -> Any:
        control = self._inputs[q.id]
        if q.kind == "choice":
            return None if control.value is None else q.options.index(control.value)
        if q.kind == "multi":
            return [i for i, box in enumerate(control.children) if box.value]
        return control.value

    def check(self, qid: str) -> Feedback:
        """Grade one question, show its feedback, update the score."""
        q = self.questions[qid]
        result = grade(q, self._response(q))
        if result.answered:
            self.results[qid] = result
        mark = ("✅ Correct" if result.correct else "❌ Not yet") if result.answered else "Note"
        colour = "var(--jp-success-color1, #1a7f37)" if result.correct else "inherit"
        text = html.escape(result.message)
        self._feedback[qid].value = f'<div style="color:{colour}"><b>{mark}:</b> {text}</div>'
        self.score.value = f"<b>{score_line(self.results, len(self.questions))}</b>"
        return result


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
        self.widget = w.VBox([*parts, self.progress])

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
