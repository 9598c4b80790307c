"""``course_utils.fitting``: one request fitted to an input budget (chunk, truncate, refuse)."""

from __future__ import annotations

from course_utils.fitting import fit_request, input_budget
from course_utils.pricing import DEFAULT_MODEL, get_model
from course_utils.tokens import count_request_input

TEXT = " ".join(f"Sentence {i} says one more thing about rate limits." for i in range(80))
BODY = {
    "model": DEFAULT_MODEL,
    "input": TEXT,
    "instructions": "Summarise.",
    "max_output_tokens": 50,
}


def test_a_request_within_its_budget_goes_as_it_is() -> None:
    used = count_request_input(BODY)
    fit = fit_request(BODY, used)
    assert fit.bodies == [BODY] and fit.note is None and not fit.refused


def test_chunks_keep_every_other_field_and_each_bills_within_the_budget() -> None:
    fit = fit_request(BODY, 300, "chunk", "a test budget")
    assert len(fit.bodies) > 1 and "".join(b["input"] for b in fit.bodies) == TEXT
    for body in fit.bodies:
        assert {k: v for k, v in body.items() if k != "input"} == {
            k: v for k, v in BODY.items() if k != "input"
        }
        assert count_request_input(body) <= 300
    assert f"went as {len(fit.bodies)} parts" in (fit.note or "") and "a test budget" in fit.note


def test_truncate_sends_the_start_that_fits() -> None:
    (body,) = fit_request(BODY, 300, "truncate").bodies
    assert TEXT.startswith(body["input"]) and count_request_input(body) <= 300


def test_fail_and_a_budget_with_no_room_are_refused_with_the_reason() -> None:
    fit = fit_request(BODY, 300, "fail", "the 300-token test budget")
    assert fit.refused and "over the budget of 300 (the 300-token test budget)" in fit.refusal
    overhead = count_request_input({**BODY, "input": ""})
    fit = fit_request(BODY, overhead, "chunk")
    assert fit.refused and f"alone bill {overhead} tokens" in (fit.refusal or "")


def test_the_budget_is_the_tightest_limit_and_says_which() -> None:
    window = get_model(DEFAULT_MODEL).context_window
    assert input_budget(DEFAULT_MODEL, 100)[0] == window - 100
    tpm = (1900, "the 2,000 TPM limit less the 100-token output cap")
    assert input_budget(DEFAULT_MODEL, 100, tpm=2000) == tpm
    assert input_budget(DEFAULT_MODEL, 100, 2000, 500) == (500, "the max_input_tokens setting")
