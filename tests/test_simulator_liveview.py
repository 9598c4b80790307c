"""The live view: aggregation on a fake clock, the page's rules, and the page + JSON over HTTP."""

from __future__ import annotations

import json
import re
import urllib.request

import openai
import pytest

from course_simulator.classroom import ClassKeys, attach
from course_simulator.liveview import LiveStats, outcome_of, render_page, render_panel
from course_simulator.protocol import RequestRecord
from course_utils.pricing import DEFAULT_MODEL

KEY_A = "class-alpha-0123456789"
KEY_B = "class-bravo-9876543210"


def rec(status: int | None, tokens: tuple[int, int] | None = (10, 5)) -> RequestRecord:
    inp, out = tokens if tokens else (None, None)
    return RequestRecord(
        time=0.0, method="POST", path="/v1/responses", key_hint="x", model=DEFAULT_MODEL,
        status=status, outcome="ok", request_id="req_1", input_tokens=inp, output_tokens=out,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "ok"), (201, "ok"), (429, "rate_limited"), (500, "errors"), (401, "errors"),
     (400, "errors"), (None, "errors")],
)  # fmt: skip
def test_outcome_of(status, outcome):
    assert outcome_of(rec(status)) == outcome


def test_counts_land_in_ten_second_bins_and_leave_after_the_window(fake_clock):
    stats = LiveStats(clock=fake_clock)  # 5 min of 10 s bins
    fake_clock.now = 1000.0  # bin 100
    stats.observe(rec(200), KEY_A)
    stats.observe(rec(429, None), KEY_A)
    stats.observe(rec(200, (100, 50)), KEY_B)
    fake_clock.advance(10)  # the next bin
    stats.observe(rec(500, None), KEY_A)
    snap = stats.snapshot()
    assert snap["bins"] == 30 and len(snap["room"]["series"]) == 30
    assert snap["room"]["series"][-2] == [2, 1, 0, 165]  # ok, 429, errors, tokens
    assert snap["room"]["series"][-1] == [0, 0, 1, 0]
    room = snap["room"]
    assert (room["requests"], room["ok"], room["rate_limited"], room["errors"], room["tokens"]) == (
        4, 2, 1, 1, 165,
    )  # fmt: skip
    a, b = snap["keys"]  # busiest first
    assert (a["requests"], a["ok"], a["rate_limited"], a["errors"], a["tokens"]) == (3, 1, 1, 1, 15)
    assert (b["requests"], b["tokens"]) == (1, 150)
    assert snap["last_minute"]["requests"] == 4

    fake_clock.advance(60)  # 70 s after the first bin: out of the last minute, still in the window
    snap = stats.snapshot()
    assert snap["last_minute"]["requests"] == 0 and snap["room"]["requests"] == 4
    assert snap["room"]["series"][-8] == [2, 1, 0, 165]

    fake_clock.advance(230)  # t=1300: the bin of t=1000-1010 is 30 bins back, out of the window
    snap = stats.snapshot()
    assert snap["room"]["requests"] == 1 and [r["requests"] for r in snap["keys"]] == [1]
    fake_clock.advance(10)
    snap = stats.snapshot()
    assert snap["room"]["requests"] == 0 and snap["keys"] == []  # quiet keys drop off


def test_rows_are_labelled_without_the_key(fake_clock):
    twin = "class-other-0123456789"  # masks like KEY_A: same start, same end
    stats = LiveStats(clock=fake_clock)
    stats.observe(rec(200), KEY_A)
    stats.observe(rec(200), twin)
    stats.observe(rec(401), None)
    text = json.dumps(stats.snapshot())
    assert KEY_A not in text and twin not in text
    assert "alpha" not in text and "other" not in text  # not even the middle of a key
    labels = sorted(r["label"] for r in stats.snapshot()["keys"])
    # two masks that look alike are told apart; a request without a key has its own row
    assert labels[0] == "(no key sent)"
    assert labels[1] + " #2" == labels[2]


def test_names_from_the_keys_file_label_the_rows(fake_clock):
    keys = ClassKeys({KEY_A: "Ada"}, prefix="class-")
    stats = LiveStats(clock=fake_clock, label=keys.label)
    stats.observe(rec(200), KEY_A)
    stats.observe(rec(200), KEY_B)
    labels = {r["label"] for r in stats.snapshot()["keys"]}
    assert "Ada" in labels and len(labels) == 2 and KEY_B not in json.dumps(sorted(labels))


def test_max_rows_and_max_keys_bound_what_is_kept_and_shown(fake_clock):
    stats = LiveStats(clock=fake_clock, max_keys=3)
    for i in range(5):
        fake_clock.advance(1)
        stats.observe(rec(200), f"class-student-{i:04d}-secret")
    snap = stats.snapshot()
    assert len(snap["keys"]) == 3  # the two silent the longest were forgotten
    assert snap["room"]["requests"] == 5  # the room still counts everything
    assert len(stats.snapshot(max_rows=2)["keys"]) == 2
    assert stats.snapshot(max_rows=2)["hidden_keys"] == 1
    stats.reset()
    assert stats.snapshot()["keys"] == [] and stats.snapshot()["room"]["requests"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bin_s": 0}, "bin_s must be a number of seconds > 0"),
        ({"window_s": float("inf")}, "window_s must be"),
        ({"window_s": 25, "bin_s": 10}, "whole number of bins"),
        ({"window_s": 3600, "bin_s": 1}, "from 1 to 360"),
        ({"max_keys": 0}, "max_keys"),
        ({"bin_s": True}, "bin_s"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LiveStats(**kwargs)


def test_the_page_has_no_external_asset_and_a_label_for_every_colour(fake_clock):
    keys = ClassKeys({KEY_A: "<b>Ada</b>"})
    stats = LiveStats(clock=fake_clock, label=keys.label)
    stats.observe(rec(200), KEY_A)
    stats.observe(rec(429), KEY_A)
    settings = {"rpm": 20, "tpm": None, "fail_rate": 0.1, "latency_ms": 0}
    page = render_page(stats.snapshot(), settings=settings, base_url="http://10.0.0.5:8000/v1")
    assert not re.search(r'\b(src|href)\s*=\s*"(https?:)?//', page)  # nothing from elsewhere
    assert "<script src" not in page and "@import" not in page
    assert '<meta http-equiv="refresh"' in page  # the no-script fallback
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page and "<b>Ada</b>" not in page  # escaped
    for text in ("OK (solid blue)", "429 rate limited (orange, striped)",
                 "other errors (red, dotted)", "tokens (green)"):  # fmt: skip
        assert text in page
    assert "<b>20</b> requests/min" in page and "tokens/min: no limit" in page
    assert "chaos: <b>10%</b>" in page
    assert "OPENAI_BASE_URL=http://10.0.0.5:8000/v1" in page
    assert KEY_A not in page


def test_an_empty_window_says_it_is_waiting(fake_clock):
    panel = render_panel(LiveStats(clock=fake_clock).snapshot())
    assert "No requests yet" in panel and "<table" not in panel


# --- over real HTTP, with the real SDK ---------------------------------------------------------


def get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.status, reply.headers["Content-Type"], reply.read().decode()


def test_page_and_json_over_http_follow_real_sdk_traffic(make_sim):
    sim = make_sim(rpm=3)
    attach(sim, keys=ClassKeys({KEY_A: "Ada"}, prefix="class-"))
    root = sim.base_url.removesuffix("/v1")
    ada = sim.client(api_key=KEY_A, max_retries=0)
    outcomes = []
    for _ in range(5):
        try:
            ada.responses.create(model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=20)
            outcomes.append("ok")
        except openai.RateLimitError:
            outcomes.append("429")
    assert outcomes == ["ok", "ok", "ok", "429", "429"]
    sim.client(api_key=KEY_B, max_retries=0).models.list()

    status, ctype, body = get(f"{root}/live.json")
    assert status == 200 and ctype.startswith("application/json")
    data = json.loads(body)
    assert data["room"]["requests"] == 6 and data["room"]["rate_limited"] == 2
    ada_row = next(r for r in data["keys"] if r["label"] == "Ada")
    assert (ada_row["ok"], ada_row["rate_limited"]) == (3, 2) and ada_row["tokens"] > 0
    assert data["settings"]["rpm"] == 3
    assert KEY_A not in body and KEY_B not in body

    status, ctype, page = get(f"{root}/live")
    assert status == 200 and ctype == "text/html; charset=utf-8"
    assert "Ada" in page and 'id="lv-room-429">2<' in page
    assert f"OPENAI_BASE_URL={sim.base_url}" in page
    status, _, panel = get(f"{root}/live/panel")
    assert 'id="lv-room-requests">6<' in panel and "<html" not in panel
    # the view's own requests are neither logged nor counted
    assert len(sim.requests) == 6
    assert json.loads(get(f"{root}/live.json")[2])["room"]["requests"] == 6


def test_live_view_can_be_left_off(make_sim):
    sim = make_sim()
    attach(sim, live_view=False)
    with pytest.raises(urllib.error.HTTPError) as info:
        get(sim.base_url.removesuffix("/v1") + "/live")
    assert info.value.code == 404
