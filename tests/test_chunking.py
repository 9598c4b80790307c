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


@pytest.mark.slow
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


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")), deadline=None)
@given(
    text=st.text(alphabet=" \n.,'\"-+/abcXYZé日🙂0189", max_size=300),
    max_tokens=st.integers(min_value=0, max_value=40),
)
def test_truncate_keeps_the_longest_prefix_that_fits(text, max_tokens):
    out = truncate_to_tokens(text, max_tokens, "gpt-5")
    assert text.startswith(out) and count_tokens(out, "gpt-5") <= max_tokens
    if len(out) < len(text):  # cut at most one character's tokens short of the budget
        assert count_tokens(out, "gpt-5") + count_tokens(text[len(out)], "gpt-5") >= max_tokens


def test_truncate_zero_and_short_text():
    assert truncate_to_tokens("hello", 0) == ""
    assert truncate_to_tokens("hello", 100) == "hello"
    with pytest.raises(ValueError, match="at least 0"):
        truncate_to_tokens("hello", -1)


# --- near-linear on every input class (issue 16) ------------------------------------------------


def _input_classes() -> dict[str, str]:
    """Text with no sentence breaks (CJK), none and no word breaks (minified JSON, base64), a
    whitespace run, and prose: seeded, so every run sees the same text."""
    import base64
    import json
    import random

    rng = random.Random(16)
    cjk = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(40_000))
    records = [
        {"id": i, "name": f"item{i}", "tags": ["a", "b"], "ok": i % 2 == 0} for i in range(2500)
    ]
    minified = json.dumps(records, separators=(",", ":"))
    b64 = base64.b64encode(rng.randbytes(60_000)).decode()
    prose = "Rate limits protect a shared service. Tokens measure text! Do retries help? " * 1200
    spaces = "x" + " " * 200_000 + "y"
    return {"cjk": cjk, "minified_json": minified, "base64": b64, "prose": prose, "spaces": spaces}


class _CountingEncoding:
    """The real encoding, counting the characters handed to it (work, not time)."""

    def __init__(self, enc) -> None:
        self._enc, self.chars = enc, 0

    def encode_ordinary(self, text: str) -> list[int]:
        self.chars += len(text)
        return self._enc.encode_ordinary(text)

    def __getattr__(self, name: str):
        return getattr(self._enc, name)


@pytest.mark.parametrize("kind", ["cjk", "minified_json", "base64", "prose", "spaces"])
def test_chunk_text_encodes_each_character_a_few_times_not_once_per_chunk(kind, monkeypatch):
    """The old chunk_text re-encoded the rest of a text with no sentence breaks for every chunk
    (quadratic: 200k CJK characters took 72 s). Counted as characters handed to tiktoken, so the
    test measures work, never time; bench/tokens.py prints the time ratios."""
    text = _input_classes()[kind]
    counting = _CountingEncoding(chunking.encoding_for("gpt-5"))
    monkeypatch.setattr(chunking, "encoding_for", lambda model: counting)
    chunks = chunk_text(text, 200, "gpt-5")
    assert "".join(chunks) == text
    assert all(count_tokens(c, "gpt-5") <= 200 for c in chunks)
    assert len(chunks) > 5
    assert counting.chars <= 4 * len(text), f"{counting.chars / len(text):.1f} x the text"


def test_truncate_reads_only_the_start_of_a_long_text(monkeypatch):
    text = "word " * 200_000
    counting = _CountingEncoding(chunking.encoding_for("gpt-5"))
    monkeypatch.setattr(chunking, "encoding_for", lambda model: counting)
    out = truncate_to_tokens(text, 50, "gpt-5")
    assert text.startswith(out) and count_tokens(out, "gpt-5") == 50
    assert counting.chars < 10_000


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    text=st.text(
        alphabet=" \t\n\r.!?,;:'\"-_/()[]{}+=#@&*abcstXYZéß日本語🙂0123456789", max_size=600
    ),
    max_tokens=st.integers(min_value=1, max_value=40),
    model=st.sampled_from(["gpt-5", "gpt-4"]),  # o200k_base and cl100k_base
)
def test_chunks_fit_exactly_on_mixed_spacing_and_punctuation(text, max_tokens, model):
    """A cut before a space is read off a longer encoding instead of being counted again; the
    chunk's real count must still be within budget, for both shipped vocabularies."""
    try:
        chunks = chunk_text(text, max_tokens, model)
    except ValueError as exc:
        assert "too small" in str(exc)
        return
    assert "".join(chunks) == text
    assert all(chunks) and all(count_tokens(c, model) <= max_tokens for c in chunks)
