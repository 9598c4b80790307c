"""The knowledge check: every question can be passed and failed, and the widgets wire it."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils.quiz import CHECKLIST, QUESTIONS, Question, grade, score_line
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
    bad = grade(q, WRONG[q.id])
    assert not bad.correct and bad.answered and bad.message.startswith("Not yet.")
    # the explanation is shown either way, so a wrong answer still teaches
    assert q.explanation in bad.message and q.explanation in good.message


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
    results = {q.id: grade(q, q.correct[0]), "x": grade(QUESTIONS[1], "a wrong idea entirely")}
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
