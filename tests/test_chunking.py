"""course_utils.chunking: chunking and truncation to a token budget with real tiktoken."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_utils import chunking
from course_utils.chunking import chunk_text, truncate_to_tokens
from course_utils.tokens import count_tokens

SENTENCES = "One short sentence. Another one follows! Does a third ask? Yes.\nA heading\nMore."


def test_chunks_break_between_sentences_when_they_fit():
    chunks = chunk_text(SENTENCES, 8, "gpt-5")
    assert "".join(chunks) == SENTENCES
    assert all(count_tokens(c, "gpt-5") <= 8 for c in chunks)
    for c in chunks[:-1]:
        assert re.search(r"([.!?]|heading)$", c), c  # every cut follows a sentence end or a line


def test_one_chunk_when_everything_fits():
    assert chunk_text(SENTENCES, 10_000) == [SENTENCES]


def test_empty_text_gives_no_chunks():
    assert chunk_text("", 5) == []


def test_long_sentence_is_cut_between_words():
    sentence = "word " * 50 + "end."
    chunks = chunk_text(sentence, 10, "gpt-5")
    assert "".join(chunks) == sentence
    assert all(count_tokens(c, "gpt-5") <= 10 for c in chunks)
    assert all(not c.startswith("wor") or c.startswith("word") for c in chunks)  # no split words


def test_one_huge_word_is_cut_at_token_level():
    word = "x" * 500
    chunks = chunk_text(word, 7, "gpt-5")
    assert "".join(chunks) == word
    assert all(1 <= count_tokens(c, "gpt-5") <= 7 for c in chunks)


def test_budget_smaller_than_one_character_is_a_clear_error():
    emoji = "🧑🏽‍🚀"  # several tokens for one visible symbol
    need = count_tokens(emoji[0], "gpt-5")
    assert need > 1
    with pytest.raises(ValueError, match="too small"):
        chunk_text(emoji, 1, "gpt-5")


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-3, ValueError), (2.5, TypeError)])
def test_chunk_text_rejects_bad_budgets(bad, error):
    with pytest.raises(error, match="max_tokens"):
        chunk_text("some text", bad)


sentence_st = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
).map(lambda s: s.strip() + ".")


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    text=st.one_of(
        st.text(max_size=400),
        st.lists(sentence_st, max_size=12).map(" ".join),
    ),
    max_tokens=st.integers(min_value=1, max_value=60),
)
def test_chunk_text_properties(text, max_tokens):
    try:
        chunks = chunk_text(text, max_tokens, "gpt-5")
    except ValueError as exc:
        # Allowed only when some single character needs more tokens than the budget.
        assert "too small" in str(exc)
        assert any(count_tokens(ch, "gpt-5") > max_tokens for ch in text)
        return
    assert "".join(chunks) == text  # nothing lost, nothing reordered
    assert all(chunks)
    assert all(count_tokens(c, "gpt-5") <= max_tokens for c in chunks)


@settings(max_examples=60, deadline=None)
@given(
    sentences=st.lists(
        st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=30).map(
            lambda s: s.strip() or "a"
        ),
        min_size=1,
        max_size=10,
    ),
    max_tokens=st.integers(min_value=12, max_value=40),
)
def test_sentence_boundaries_respected_when_every_sentence_fits(sentences, max_tokens):
    text = " ".join(s + "." for s in sentences)
    pieces = chunking._split_at(text, chunking._SENTENCE_END)
    if any(count_tokens(p, "gpt-5") > max_tokens for p in pieces):
        return  # a sentence over budget must be split inside; covered elsewhere
    boundaries = {sum(len(p) for p in pieces[:i]) for i in range(len(pieces) + 1)}
    chunks = chunk_text(text, max_tokens, "gpt-5")
    cuts = {sum(len(c) for c in chunks[:i]) for i in range(len(chunks) + 1)}
    assert cuts <= boundaries


# --- truncation -------------------------------------------------------------------------------


def test_truncate_keeps_the_longest_fitting_prefix():
    text = "The quick brown fox jumps over the lazy dog. " * 5
    out = truncate_to_tokens(text, 12, "gpt-5")
    assert text.startswith(out)
    assert count_tokens(out, "gpt-5") <= 12
    assert count_tokens(text[: len(out) + 1], "gpt-5") > 12 or len(out) == len(text)


def test_truncate_never_breaks_a_character():
    text = "naïve café 🙂🙂🙂 日本語のテキスト"
    for n in range(0, count_tokens(text) + 2):
        out = truncate_to_tokens(text, n)
        assert text.startswith(out)
        assert count_tokens(out) <= n


def test_truncate_zero_and_short_text():
    assert truncate_to_tokens("hello", 0) == ""
    assert truncate_to_tokens("hello", 100) == "hello"
    with pytest.raises(ValueError, match="at least 0"):
        truncate_to_tokens("hello", -1)
