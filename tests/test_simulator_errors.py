"""simulator.error_replies: OpenAI-shaped error bodies and the masked key the log keeps."""

from __future__ import annotations

import pytest

from course_simulator.error_replies import error_body, mask_key


@pytest.mark.parametrize("length", range(1, 80))
def test_mask_key_never_shows_more_than_a_quarter_of_any_key(length: int) -> None:
    key = "".join(chr(ord("A") + i % 26) for i in range(length))
    hint = mask_key(key)
    assert "***" in hint and key not in hint
    assert len(hint.replace("***", "")) <= min(7, length // 4)


def test_mask_key_keeps_a_useful_hint_of_a_real_length_key() -> None:
    assert mask_key("sk-test-not-a-real-key-123456") == "sk-te***56"
    assert mask_key(None) == "<none>"


def test_a_twelve_character_key_shows_at_most_three_characters() -> None:
    """The issue's case: the old rule showed 7 of 12 characters (sk-ab***yz)."""
    hint = mask_key("sk-abcdefgyz")
    assert len(hint.replace("***", "")) <= 3


def test_error_body_has_the_services_shape() -> None:
    assert error_body("m", "t") == {
        "error": {"message": "m", "type": "t", "param": None, "code": None}
    }
