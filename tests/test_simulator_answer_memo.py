"""The answer memo: a repeated request is answered from memory, and only an identical one.

The simulated model is deterministic, so the server keeps the answers it wrote
(``course_simulator.answer_memo``); a reply still gets fresh ids, and any change to the
request (its text, cap, format, verbosity, model) is a new answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from course_simulator import Simulator
from course_simulator.answer_memo import AnswerMemo, answer_key
from course_simulator.endpoints.generation import ANSWERS
from course_simulator.model import Answer
from course_utils.pricing import DEFAULT_MODEL

PROMPT = "Explain rate limits in 3 bullet points."


def _answer(text: str) -> Answer:
    return Answer(text, 1, 1, False)


def test_the_memo_keeps_its_newest_answers_only() -> None:
    memo, made = AnswerMemo(size=2), []

    def make(text: str) -> Callable[[], Answer]:
        def write() -> Answer:
            made.append(text)
            return _answer(text)

        return write

    for text in ("a", "b", "a", "c", "a", "b"):
        memo.get_or_make(answer_key(text), make(text))
    # "a" was used again before "c" arrived, so "b" went first; then "b" came back.
    assert made == ["a", "b", "c", "b"]
    assert len(memo) == 2


@pytest.mark.parametrize("value", [object(), math.nan, {1, 2}])
def test_a_value_json_cannot_hold_is_never_remembered(value: object) -> None:
    memo, made = AnswerMemo(), []
    assert answer_key("messages", value) is None
    for _ in range(2):
        memo.get_or_make(answer_key(value), lambda: _answer(str(made.append(1))))
    assert made == [1, 1] and len(memo) == 0


def test_keys_tell_apart_what_the_model_reads() -> None:
    messages = [{"role": "user", "content": PROMPT}]
    key = answer_key(messages, DEFAULT_MODEL, 100, False, None, 20, None, "medium")
    assert key == answer_key(messages, DEFAULT_MODEL, 100, False, None, 20, None, "medium")
    for changed in (
        ([{"role": "developer", "content": PROMPT}], DEFAULT_MODEL, 100, False, None, 20),
        (messages, "gpt-4.1", 100, False, None, 20),
        (messages, DEFAULT_MODEL, 99, False, None, 20),
        (messages, DEFAULT_MODEL, 100, True, None, 20),
        (messages, DEFAULT_MODEL, 100, False, {"type": "object"}, 20),
    ):
        assert answer_key(*changed, None, "medium") != key
    assert answer_key(messages, DEFAULT_MODEL, 100, False, None, 20, None, "low") != key


def test_a_repeated_request_gets_the_same_answer_in_a_new_reply(sim: Simulator) -> None:
    ANSWERS.clear()
    client = sim.client(max_retries=0)
    first = client.responses.create(model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=100)
    assert len(ANSWERS) == 1
    again = client.responses.create(model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=100)
    assert len(ANSWERS) == 1  # served from memory
    assert again.output_text == first.output_text
    assert again.usage.model_dump() == first.usage.model_dump()
    assert again.id != first.id and again.output[0].id != first.output[0].id
    ids = {r.request_id for r in sim.requests}
    assert len(ids) == 2


def test_a_smaller_cap_is_a_new_answer_not_the_remembered_one(sim: Simulator) -> None:
    ANSWERS.clear()
    client = sim.client(max_retries=0)
    whole = client.responses.create(model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=100)
    cut = client.responses.create(model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=16)
    assert whole.status == "completed" and cut.status == "incomplete"
    assert cut.usage.output_tokens == 16
    assert whole.output_text.startswith(cut.output_text)
    assert len(ANSWERS) == 2
