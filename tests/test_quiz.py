"""The knowledge check: every question can be passed and failed, and the widgets wire it."""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets import TraitError

from course_utils.aria_widgets import ChoiceGroup, StatusLine
from course_utils.quiz import CHECKLIST, QUESTIONS, Question, grade, model_answer, score_line
from course_utils.widgets import Checklist, Quiz

ROOT = Path(__file__).resolve().parents[1]

# A wrong answer for each question, as a learner might give it.
WRONG = {
    "concise": 0,
    "backoff": "it makes the request cheaper",
    "no_retry": [0, 1],
    "structured": 3,
    "max_output": 0,
    "jitter": 0,
    "double_retry": "6",
    "pacing": "600",
    "reasoning": 3,
    "quota": 0,
    "logging": [0, 2],
}


def right_answer(q: Question) -> object:
    if q.kind == "choice":
        return q.correct[0]
    if q.kind == "multi":
        return list(q.correct)
    if q.kind == "number":
        return f"{q.number:,}"
    return "Retrying at once hammers an overloaded service; waiting longer lets it recover."


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.id)
def test_each_question_passes_its_answer_and_fails_a_wrong_one(q: Question) -> None:
    good = grade(q, right_answer(q))
    assert good.correct and good.answered and good.message.startswith("Correct.")
    assert q.explanation in good.message  # a right answer is explained at once
    first = grade(q, WRONG[q.id])
    assert not first.correct and first.answered and first.message.startswith("Not yet.")
    # a first wrong try gets a nudge, not the model answer: the learner thinks again first
    assert q.explanation not in first.message and "Show answer" in first.message
    second = grade(q, WRONG[q.id], attempt=2)
    assert not second.correct and q.explanation in second.message
    assert model_answer(q).startswith("Model answer: ") and q.explanation in model_answer(q)


BACKOFF = next(q for q in QUESTIONS if q.id == "backoff")

# What learners typed, or might: none says both the problem and how backoff solves it.
BACKOFF_WRONG = [
    "You wait.",
    "The retry loop gets longer.",
    "It makes the request cheaper.",
    "It makes every request faster.",
    "It fixes an invalid API key.",
    "It retries immediately until the request works.",
    "The server is overloaded.",
    "It waits longer each time.",
    "It shortens the prompt so fewer tokens are used.",
    "It catches every exception so nothing crashes.",
    "Exponential growth in the number of tokens.",
    "It handles errors for you.",
    "It stops after the first error.",
    "The delay makes the answer better.",
]

BACKOFF_RIGHT = [
    "Retrying at once hammers an overloaded service; waiting longer lets it recover.",
    "It stops clients flooding a rate-limited API by waiting longer after each failure.",
    "Too many retries at once overload the server, so each retry waits twice as long.",
    "When you hit a rate limit, spacing out the retries gives the service time to recover.",
    "A busy server gets a chance to recover because the delay doubles every time.",
    "It avoids a retry storm: clients back off and send less often.",
]


@pytest.mark.parametrize("answer", BACKOFF_WRONG)
def test_backoff_is_not_passed_without_both_key_ideas(answer: str) -> None:
    result = grade(BACKOFF, answer)
    assert result.answered and not result.correct, answer
    assert "is missing" in result.message  # the nudge names the missing idea


@pytest.mark.parametrize("answer", BACKOFF_RIGHT)
def test_backoff_passes_in_the_learners_own_words(answer: str) -> None:
    assert grade(BACKOFF, answer).correct, answer


def test_the_nudge_names_the_idea_that_is_missing() -> None:
    only_how = grade(BACKOFF, "It waits longer each time.").message
    only_problem = grade(BACKOFF, "The server is overloaded.").message
    assert "the problem" in only_how and "how:" in only_problem


def test_lesson_07_counts_the_questions_it_shows() -> None:
    words = {10: "Ten", 11: "Eleven", 12: "Twelve"}
    text = (ROOT / "notebooks" / "07_wrap_up.ipynb").read_text("utf-8")
    assert f"{words[len(QUESTIONS)]} questions" in text


def test_every_question_has_a_wrong_answer_case_and_a_lesson_that_exists() -> None:
    assert set(WRONG) == {q.id for q in QUESTIONS}
    lessons = {q.lesson for q in QUESTIONS} | {i.lesson for i in CHECKLIST}
    missing = [name for name in lessons if not (ROOT / "notebooks" / name).exists()]
    assert not missing, f"quiz/checklist point at lessons that do not exist: {missing}"


@pytest.mark.parametrize(
    ("qid", "answer", "says"),
    [
        ("concise", None, "Choose or type an answer first"),
        ("no_retry", [], "Choose or type an answer first"),
        ("pacing", "", "Choose or type an answer first"),
        ("pacing", "four hundred", "Type a whole number"),
        ("backoff", "wait", "Write a short sentence"),
    ],
)
def test_unanswered_or_malformed_answers_get_a_clear_note_not_a_score(
    qid: str, answer: object, says: str
) -> None:
    q = next(q for q in QUESTIONS if q.id == qid)
    result = grade(q, answer)
    assert not result.answered and not result.correct and says in result.message


def test_score_line_counts_only_answered_questions() -> None:
    q = QUESTIONS[0]
    results = {q.id: grade(q, q.correct[0]), "x": grade(BACKOFF, "a wrong idea entirely")}
    assert score_line(results, 11) == "Score: 1 of 11 correct (2 answered)"


def test_quiz_widget_shows_feedback_and_updates_the_score() -> None:
    quiz = Quiz()
    quiz.check("concise")  # nothing chosen yet
    assert "Choose or type an answer first" in quiz._feedback["concise"].value
    assert "0 of 11 correct (0 answered)" in quiz.score.value
    quiz.answer("concise", 1)
    assert quiz.check("concise").correct
    assert "Correct" in quiz._feedback["concise"].value
    quiz.answer("no_retry", [0, 2, 4])
    quiz.check("no_retry")
    quiz.answer("pacing", "600")
    quiz.check("pacing")
    assert "Not yet" in quiz._feedback["pacing"].value
    assert "2 of 11 correct (3 answered)" in quiz.score.value


def test_quiz_widget_shows_the_model_answer_after_a_second_try_or_on_request() -> None:
    quiz = Quiz()
    pacing = quiz.questions["pacing"]
    quiz.answer("pacing", "600")
    quiz.check("pacing")
    assert pacing.explanation not in quiz._feedback["pacing"].value
    quiz.check("pacing")
    assert "Model answer" in quiz._feedback["pacing"].value and quiz.tries["pacing"] == 2
    quiz.show_answer("backoff")  # asked for, before any try
    assert "Model answer" in quiz._feedback["backoff"].value
    assert "0 of 11 correct (1 answered)" in quiz.score.value  # showing is not answering


def test_checklist_counts_ticks() -> None:
    checklist = Checklist()
    assert f"0 of {len(CHECKLIST)} ticked" in checklist.progress.value
    checklist.boxes[0].value = True
    checklist.boxes[3].value = True
    assert checklist.done == 2
    assert f"2 of {len(CHECKLIST)} ticked" in checklist.progress.value
    for box in checklist.boxes:
        box.value = True
    assert "all done" in checklist.progress.value


# --- the option groups and the status line (aria_widgets): what the browser suite sees ---------


def test_each_option_question_is_one_group_named_by_its_question() -> None:
    quiz = Quiz()
    for number, q in enumerate(QUESTIONS, start=1):
        control = quiz._inputs[q.id]
        if not q.options:
            assert not isinstance(control, ChoiceGroup), q.id
            continue
        assert isinstance(control, ChoiceGroup), q.id
        assert control.label == f"{number}. {q.prompt}"  # the group's accessible name
        assert control.options == list(q.options)
        assert control.multiple == (q.kind == "multi") and control.value == []


def _pick(group: ChoiceGroup, *indexes: int) -> None:
    """What the browser sends when a learner picks: a comm message, as the kernel receives it."""
    data = {"method": "custom", "content": {"picked": list(indexes)}}
    group._handle_msg({"content": {"data": data}, "buffers": []})


def test_a_choice_is_graded_from_the_message_the_browser_sends() -> None:
    quiz = Quiz()
    _pick(quiz._inputs["concise"], 0)
    assert not quiz.check("concise").correct and quiz.tries["concise"] == 1
    _pick(quiz._inputs["concise"], 1)  # the second try, right this time
    assert quiz._inputs["concise"].value == [1] and quiz.check("concise").correct
    assert "1 of 11 correct (1 answered)" in quiz.score.value  # one question, two tries
    _pick(quiz._inputs["no_retry"], 4, 0, 2)
    assert quiz.check("no_retry").correct
    _pick(quiz._inputs["logging"], 0, 2)
    quiz.check("logging")
    quiz.check("logging")  # a second wrong try shows the model answer
    assert "Model answer" in quiz._feedback["logging"].value
    assert "2 of 11 correct (3 answered)" in quiz.score.value


def test_answer_sets_the_group_by_index_or_option_text() -> None:
    quiz = Quiz()
    quiz.answer("jitter", "So they do not all retry at the same instant and collide again")
    assert quiz._inputs["jitter"].value == [1]
    quiz.answer("no_retry", ["429 insufficient_quota", 0])
    assert quiz._inputs["no_retry"].value == [0, 4]  # sorted, as the boxes are shown
    quiz.answer("no_retry", [])
    assert not quiz.check("no_retry").answered  # nothing ticked is a note, not a score


def test_a_group_refuses_an_option_it_does_not_have_or_two_radios() -> None:
    group = ChoiceGroup(label="1. Pick one", options=["a", "b"])
    with pytest.raises(
        TraitError, match=r"'1. Pick one' has 2 options \(0 to 1\); there is no option 2"
    ):
        group.value = [2]
    with pytest.raises(TraitError, match="takes one option, not"):
        group.value = [0, 1]
    boxes = ChoiceGroup(label="Tick", options=["a", "b", "c"], multiple=True)
    boxes.value = [2, 0, 2]
    assert boxes.value == [0, 2]


def test_feedback_goes_into_one_status_line_that_stays_on_the_page() -> None:
    """A live region is read out when its text changes, not when it is created with it: each
    question's feedback is one StatusLine, shown from the start, whose value changes."""
    quiz = Quiz()
    line = quiz._feedback["pacing"]
    assert isinstance(line, StatusLine) and line.value == ""
    row = next(r for r in quiz.widget.children if line in getattr(r, "children", ()))
    quiz.answer("pacing", "400")
    quiz.check("pacing")
    assert quiz._feedback["pacing"] is line and line in row.children
    assert "Correct" in line.value and "role=" not in line.value  # no second region inside
    quiz.show_answer("pacing")
    assert quiz._feedback["pacing"] is line and line.value.startswith("Model answer")
