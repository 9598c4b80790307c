"""course_utils.tokens: counting, message overhead and one request's token account."""

from __future__ import annotations

import pytest
import tiktoken

from course_utils import tokens
from course_utils.tokens import count_message_tokens, count_tokens, encoding_for


def test_count_tokens_matches_raw_tiktoken():
    text = "Tokens are not words: unbelievable, isn't it? 🙂"
    assert count_tokens(text, "gpt-5.4-mini") == len(
        tiktoken.get_encoding("o200k_base").encode(text)
    )
    assert count_tokens(text, "cl100k_base") == len(
        tiktoken.get_encoding("cl100k_base").encode(text)
    )


def test_empty_text_is_zero_tokens():
    assert count_tokens("", "gpt-5") == 0


def test_special_token_text_counts_as_plain_text():
    # tiktoken's encode() would raise on this; learners paste such strings, so count them as text.
    assert count_tokens("<|endoftext|>", "gpt-5") > 1


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a"]])
def test_count_tokens_rejects_non_strings(bad):
    with pytest.raises(TypeError, match="text must be a string"):
        count_tokens(bad, "gpt-5")


def test_bytes_error_says_how_to_fix():
    with pytest.raises(TypeError, match=r"decode\('utf-8'\)"):
        count_tokens(b"abc")


@pytest.mark.parametrize("bad", ["", "  ", None, 3])
def test_bad_model_name_is_a_clear_type_error(bad):
    with pytest.raises(TypeError, match="model must be a model id"):
        count_tokens("hi", bad)


# --- messages ---------------------------------------------------------------------------------


def test_message_overhead_follows_the_documented_constants():
    enc = encoding_for("gpt-5")
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "What is a token?", "name": "ada"},
    ]
    expected = tokens.REPLY_PRIMER_TOKENS
    for m in messages:
        expected += tokens.MESSAGE_OVERHEAD_TOKENS
        expected += len(enc.encode(m["role"])) + len(enc.encode(m["content"]))
    expected += tokens.NAME_OVERHEAD_TOKENS + len(enc.encode("ada"))
    assert count_message_tokens(messages, "gpt-5") == expected


def test_message_content_parts_count_like_plain_content():
    plain = [{"role": "user", "content": "Hello there"}]
    parts = [{"role": "user", "content": [{"type": "input_text", "text": "Hello there"}]}]
    assert count_message_tokens(plain) == count_message_tokens(parts)


def test_messages_bad_shapes_get_clear_errors():
    with pytest.raises(TypeError, match="use count_tokens"):
        count_message_tokens("hello")
    with pytest.raises(TypeError, match=r"messages\[1\] must be a dict"):
        count_message_tokens([{"role": "user", "content": "a"}, "b"])
    with pytest.raises(TypeError, match="content parts"):
        count_message_tokens([{"role": "user", "content": [42]}])


# --- one request's account ----------------------------------------------------------------------

RESPONSES_BODIES = [
    pytest.param({"model": "gpt-5.4-mini", "input": "What is a token?"}, id="string"),
    pytest.param(
        {"model": "gpt-5.4", "input": "Be brief.", "instructions": "You teach Python."},
        id="instructions",
    ),
    pytest.param(
        {
            "model": "gpt-5.4-nano",
            "input": [
                {"role": "user", "content": "Hi, I am planning a trip."},
                {"role": "assistant", "content": "Lovely! Where to?"},
                {"role": "user", "content": "Lisbon, in May.", "name": "ada"},
            ],
        },
        id="conversation",
    ),
    pytest.param(
        {
            "model": "gpt-5.4-mini",
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Summarise this: "},
                        {"type": "input_text", "text": "tokens cost money 🙂"},
                    ],
                }
            ],
            "max_output_tokens": 40,
        },
        id="input-parts",
    ),
    pytest.param({"model": "a-model-nobody-knows", "input": "Hello there."}, id="unknown-model"),
]
CHAT_BODIES = [
    pytest.param(
        {
            "model": "gpt-5.4-mini",
            "messages": [
                {"role": "developer", "content": "Answer in one sentence."},
                {"role": "user", "content": "Why do APIs rate limit?", "name": "bob"},
            ],
        },
        id="chat",
    ),
    pytest.param(
        {
            "model": "gpt-5.4",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi!"}]}],
            "max_completion_tokens": 25,
        },
        id="chat-parts",
    ),
]


@pytest.mark.parametrize("body", RESPONSES_BODIES)
def test_count_request_input_equals_the_simulators_usage(sim, body):
    client = sim.client(max_retries=0)
    expected = tokens.count_request_input(body)
    assert client.responses.create(**body).usage.input_tokens == expected
    counted = client.responses.input_tokens.count(
        model=body["model"], input=body["input"], instructions=body.get("instructions")
    )
    assert counted.input_tokens == expected


@pytest.mark.parametrize("body", CHAT_BODIES)
def test_count_request_input_equals_the_simulators_chat_usage(sim, body):
    usage = sim.client(max_retries=0).chat.completions.create(**body).usage
    assert usage.prompt_tokens == tokens.count_request_input(body, endpoint="chat")


@pytest.mark.parametrize(
    ("body", "endpoint"),
    [
        *(pytest.param(p.values[0], "responses", id=p.id) for p in RESPONSES_BODIES),
        *(pytest.param(p.values[0], "chat", id=p.id) for p in CHAT_BODIES),
    ],
)
def test_estimate_request_tokens_is_what_the_tpm_bucket_reserves(
    make_sim, fake_clock, body, endpoint
):
    tpm = 1_000_000
    client = make_sim(tpm=tpm, clock=fake_clock).client(max_retries=0)  # the clock stands still
    api = client.responses if endpoint == "responses" else client.chat.completions
    headers = api.with_raw_response.create(**body).headers
    reserved = tpm - int(headers["x-ratelimit-remaining-tokens"])
    assert reserved == tokens.estimate_request_tokens(body, endpoint)


def test_request_messages_puts_instructions_first_as_developer():
    body = {"model": "m", "input": "Hi", "instructions": "Be brief."}
    assert tokens.request_messages(body) == [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    chat = {"messages": [{"role": "user", "content": "Hi"}]}
    assert tokens.request_messages(chat, "chat") == chat["messages"]
    assert tokens.request_messages(chat, "chat") is not chat["messages"]  # a copy


@pytest.mark.parametrize(
    ("body", "endpoint", "error", "match"),
    [
        ({"model": "m"}, "responses", ValueError, "needs 'input'"),
        ({"model": "m", "input": [{"content": "no role"}]}, "responses", TypeError, r"input\[0\]"),
        ({"model": "m", "input": "x", "instructions": 3}, "responses", TypeError, "instructions"),
        ({"model": "m"}, "chat", ValueError, "needs 'messages'"),
        ({"model": "m", "messages": "hi"}, "chat", TypeError, "list of messages"),
        ({"model": "m", "input": "x"}, "completions", ValueError, "'responses'.*'chat'"),
        ("not a dict", "responses", TypeError, "JSON object"),
    ],
)
def test_request_messages_explains_bad_bodies(body, endpoint, error, match):
    with pytest.raises(error, match=match):
        tokens.request_messages(body, endpoint)


def test_count_request_input_needs_a_model():
    with pytest.raises(TypeError, match="names no model"):
        tokens.count_request_input({"input": "hi"})
    assert tokens.count_request_input({"input": "hi"}, model="gpt-5.4") > 0


def test_image_parts_are_a_clear_type_error():
    body = {"model": "gpt-5.4", "input": [{"role": "user", "content": [{"type": "input_image"}]}]}
    with pytest.raises(TypeError, match="content parts"):
        tokens.count_request_input(body)


@pytest.mark.parametrize(
    ("body", "endpoint", "cap"),
    [
        ({"max_output_tokens": 50}, "responses", 50),
        ({"max_completion_tokens": 20, "max_tokens": 90}, "chat", 20),
        ({"max_tokens": 90}, "chat", 90),
        ({"max_tokens": 90}, "responses", None),  # not a Responses parameter
        ({"max_tokens": 90}, None, 90),  # endpoint unknown: any of the three
        ({"max_output_tokens": 0}, None, 0),
        ({}, None, None),
        ({"max_output_tokens": -5}, None, None),  # the service refuses it: no cap to reserve
        ({"max_output_tokens": True}, None, None),
        ({"max_output_tokens": "50"}, None, None),
    ],
)
def test_requested_output_cap(body, endpoint, cap):
    assert tokens.requested_output_cap(body, endpoint) == cap


def test_output_reserve_is_the_cap_else_the_default_within_the_models_maximum():
    assert tokens.output_reserve("gpt-5.4", 77) == 77
    assert tokens.output_reserve("gpt-5.4") == tokens.DEFAULT_OUTPUT_RESERVE_TOKENS
    assert tokens.output_reserve("no-such-model") == tokens.DEFAULT_OUTPUT_RESERVE_TOKENS
