"""Exercise 1 checks proven both ways: the solution passes, each typical mistake fails with
the hint that fixes it."""

from __future__ import annotations

import pytest

import course_checks.prompts  # noqa: F401  (registers the exercises)
from course_checks import assert_fails, assert_passes
from course_utils.pricing import DEFAULT_MODEL, estimate_cost

VERBOSE = (
    "Please write a comprehensive and helpful explanation of what a Python virtual environment "
    "is, with examples, and make sure it is balanced: not too short and not too long."
)
CONCISE = "Explain Python virtual environments in 3 bullet points, under 60 words."


def _row(response, model, price=None):
    usage = response.usage
    cost = (
        estimate_cost(model, usage.input_tokens, usage.output_tokens)
        if price is None
        else price * (usage.input_tokens + usage.output_tokens)
    )
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "cost_usd": cost, "text": response.output_text}  # fmt: skip


def make_compare(*, cap_default=150, send_cap=True, tokens=None, price=None, result=None,
                 verbose=VERBOSE, concise=CONCISE):  # fmt: skip
    """A learner's compare_prompts with one mistake switched on."""

    def compare_prompts(
        client, verbose_prompt=verbose, concise_prompt=concise, *, model=DEFAULT_MODEL,
        max_output_tokens=cap_default,
    ):  # fmt: skip
        report = {}
        for label, prompt in (("verbose", verbose_prompt), ("concise", concise_prompt)):
            kwargs = {"model": model, "input": prompt}
            if send_cap and max_output_tokens is not None:
                kwargs["max_output_tokens"] = max_output_tokens
            response = client.responses.create(**kwargs)
            report[label] = _row(response, model, price)
            if tokens == "local":  # a local guess instead of the server's usage
                report[label]["input_tokens"] = len(prompt.split())
        return report if result is None else result(report)

    return compare_prompts


def test_solution_passes():
    result = assert_passes("compare_prompts", make_compare())
    assert "fewer tokens" in str(result)


@pytest.mark.parametrize("name", ["compare_prompts", "generate_in_style"])
def test_solution_notebook_passes(solution_from_notebook, name):
    assert_passes(name, solution_from_notebook("01_prompt_styles.ipynb", name))


def test_not_started():
    def compare_prompts(client, verbose_prompt=VERBOSE, concise_prompt=CONCISE, **kw):
        raise NotImplementedError

    assert_fails("compare_prompts", compare_prompts, status="not_started")


def test_concise_prompt_not_shorter():
    swapped = make_compare(verbose=CONCISE, concise=VERBOSE)
    assert_fails("compare_prompts", swapped, rule=6, contains="not cheaper")


def test_prompt_pair_missing():
    assert_fails("compare_prompts", make_compare(verbose=..., concise=...), rule=6)


def test_no_output_cap_default():
    assert_fails("compare_prompts", make_compare(cap_default=None), rule=5)


def test_cap_never_sent():
    assert_fails("compare_prompts", make_compare(send_cap=False), rule=5,
                 contains="never reached the API")  # fmt: skip


def test_wrong_token_numbers():
    assert_fails("compare_prompts", make_compare(tokens="local"), rule=3,
                 contains="server billed")  # fmt: skip


def test_costs_not_from_catalogue():
    assert_fails("compare_prompts", make_compare(price=1e-6), rule=4,
                 contains="catalogue price")  # fmt: skip


def test_bare_string_returned():
    assert_fails("compare_prompts", make_compare(result=str), rule=2, contains="dict")


def test_missing_field():
    def drop_cost(report):
        del report["concise"]["cost_usd"]
        return report

    assert_fails("compare_prompts", make_compare(result=drop_cost), rule=2,
                 contains="cost_usd")  # fmt: skip


def test_model_argument_ignored():
    def compare_prompts(client, verbose_prompt=VERBOSE, concise_prompt=CONCISE, *,
                        model=DEFAULT_MODEL, max_output_tokens=150):  # fmt: skip
        return make_compare()(client, verbose_prompt, concise_prompt,
                              max_output_tokens=max_output_tokens)  # fmt: skip

    assert_fails("compare_prompts", compare_prompts, rule=1, contains="model")


# --- homework: generate_in_style ---------------------------------------------------------------

GOOD = {
    "short": ("Answer in one sentence.", 60),
    "medium": ("Answer in 3 bullet points, under 80 words.", 160),
    "long": ("Answer in 6 bullet points with one short code example.", 400),
}


def make_style(styles=GOOD, *, validate=True, default="medium", returns="response"):
    def generate_in_style(client, prompt, style=default, *, model=DEFAULT_MODEL):
        if validate and style not in styles:
            raise ValueError(f"unknown style {style!r}: choose one of {', '.join(styles)}")
        instruction, cap = styles.get(style, styles["medium"])
        response = client.responses.create(
            model=model, instructions=instruction, input=prompt, max_output_tokens=cap
        )
        return response.output_text if returns == "text" else response

    return generate_in_style


def test_style_solution_passes():
    assert_passes("generate_in_style", make_style())


@pytest.mark.parametrize(
    "long_instruction",
    ["Answer in detail.", "Give a detailed, comprehensive answer with examples."],
)
def test_style_following_the_hints_numbers_passes(long_instruction):
    # hint 2's caps with hint 3's instructions, and a natural "detailed" one for long
    by_hints = {
        "short": ("Answer in one sentence.", 60),
        "medium": ("Answer in 3 bullet points, under 80 words.", 160),
        "long": (long_instruction, 800),
    }
    assert_passes("generate_in_style", make_style(by_hints))


def test_style_caps_not_growing():
    flat = {k: (v[0], 200) for k, v in GOOD.items()}
    assert_fails("generate_in_style", make_style(flat), rule=2, contains="grow")


def test_style_unknown_style_accepted_silently():
    assert_fails("generate_in_style", make_style(validate=False), rule=4,
                 contains="ValueError")  # fmt: skip


def test_style_instruction_does_not_fit_cap():
    tight = dict(GOOD, long=("Tell me everything, in great detail, with examples.", 300))
    assert_fails("generate_in_style", make_style(tight), rule=3, contains="incomplete")


def test_style_returns_text_not_response():
    assert_fails("generate_in_style", make_style(returns="text"), rule=1)


def test_style_wrong_default():
    assert_fails("generate_in_style", make_style(default="short"), rule=2,
                 contains="medium")  # fmt: skip


@pytest.mark.parametrize("message", ["bad", ""])
def test_style_error_must_say_what_is_valid(message):
    def generate_in_style(client, prompt, style="medium", *, model=DEFAULT_MODEL):
        if style not in GOOD:
            raise ValueError(message)
        return make_style()(client, prompt, style, model=model)

    assert_fails("generate_in_style", generate_in_style, rule=4, contains="name the bad")


def test_missing_answer_text():
    def drop_text(report):
        del report["verbose"]["text"]
        return report

    assert_fails("compare_prompts", make_compare(result=drop_text), rule=2,
                 contains="output_text")  # fmt: skip


def test_cap_default_below_the_api_minimum():
    assert_fails("compare_prompts", make_compare(cap_default=8), rule=5, contains="at least 16")


REFUSAL = "I can't tell you about git branches: I am the course's simulated model."


@pytest.mark.parametrize("refused", ["verbose", "concise"])
def test_a_comparison_of_refusals_fails_saying_why(refused):
    def refuses(report):
        report[refused]["text"] = REFUSAL + "\n- I only know this course's subjects."
        return report

    result = assert_fails(
        "compare_prompts", make_compare(result=refuses), rule=6, contains="refusal"
    )
    assert "Python decorators" in str(result)  # it suggests subjects the model answers


def test_an_answer_that_only_mentions_cannot_later_is_not_a_refusal():
    def explains(report):
        report["concise"]["text"] = (
            "- A decorator wraps a function.\n" + "x " * 200 + "\n- You cannot skip `@`."
        )
        return report

    assert_passes("compare_prompts", make_compare(result=explains))
