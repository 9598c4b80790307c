"""The live view: aggregation on a fake clock, the page's rules, and the page + JSON over HTTP."""

from __future__ import annotations

import json
import re
import urllib.request

import openai
import pytest

from course_simulator.class_keys import ClassKeys
from course_simulator.classroom import attach
from course_simulator.error_replies import mask_key
from course_simulator.liveview import STATUSES, LiveStats, outcome_of, status_of
from course_simulator.liveview_page import render_page, render_panel
from course_simulator.protocol import RequestRecord
from course_utils.pricing import DEFAULT_MODEL

KEY_A = "class-alpha-0123456789"
KEY_B = "class-bravo-9876543210"
ROSTER = {"bafu-4827-seda": "Ada", "kemu-2356-widu": "Grace", "tosa-7788-nupe": None}
TOSA = mask_key("tosa-7788-nupe")  # a listed key without a name is shown masked


def rec(
    status: int | None,
    tokens: tuple[int, int] | None = (10, 5),
    *,
    outcome: str = "ok",
    path: str = "/v1/responses",
    fault: str | None = None,
) -> RequestRecord:
    inp, out = tokens if tokens else (None, None)
    return RequestRecord(
        time=0.0, method="POST", path=path, key_hint="x", model=DEFAULT_MODEL, status=status,
        outcome=outcome, request_id="req_1", fault=fault, input_tokens=inp, output_tokens=out,
    )  # fmt: skip


def room_stats(fake_clock, **kwargs) -> LiveStats:
    keys = ClassKeys(ROSTER, **kwargs)
    return LiveStats(
        clock=fake_clock, roster=list(ROSTER.items()), owner=keys.owner, accepts=keys.accepts
    )


def learners(stats: LiveStats) -> dict[str, dict]:
    return {row["label"]: row for row in stats.snapshot()["learners"]}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "ok"), (201, "ok"), (429, "rate_limited"), (500, "errors"), (401, "errors"),
     (400, "errors"), (None, "errors")],
)  # fmt: skip
def test_outcome_of(status, outcome):
    assert outcome_of(rec(status)) == outcome


@pytest.mark.parametrize(
    ("record", "status", "detail"),
    [
        (rec(200), "fine", "answered"),
        (rec(400), "fine", "refused (400)"),  # a lesson's deliberate 400: set up fine
        (rec(401, outcome="auth"), "setup_error", "wrong key (401)"),
        (rec(404, path="/responses"), "setup_error", "missing /v1 (404)"),
        (rec(404, path="/v1/nope"), "setup_error", "wrong path (404)"),
        (rec(429), "rate_limited", "own limit (429)"),
        (rec(429, fault="rate_limit"), "failing", "fault: rate limit"),  # chaos, not them
        (rec(500, fault="server_error"), "failing", "fault: server error"),
        (rec(None, fault="disconnect"), "failing", "fault: disconnect"),
        (rec(503), "failing", "server error (503)"),
        (rec(None), "failing", "no answer"),
    ],
)
def test_a_learners_status_comes_from_their_latest_request(record, status, detail):
    assert status_of(record) == (status, detail)


def test_counts_land_in_ten_second_bins_and_leave_after_the_window(fake_clock):
    stats = LiveStats(clock=fake_clock)  # 5 min of 10 s bins; no key rule
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
    a, b = snap["learners"]  # in the order they first came
    assert (a["requests"], a["ok"], a["rate_limited"], a["errors"], a["tokens"]) == (3, 1, 1, 1, 15)
    assert (b["requests"], b["tokens"]) == (1, 150)
    assert (a["status"], a["last_seen_s"]) == ("failing", 0.0)
    assert snap["last_minute"]["requests"] == 4

    fake_clock.advance(60)  # 70 s after the first bin: out of the last minute, still in the window
    snap = stats.snapshot()
    assert snap["last_minute"]["requests"] == 0 and snap["room"]["requests"] == 4
    assert snap["room"]["series"][-8] == [2, 1, 0, 165]
    assert snap["learners"][0]["last_seen_s"] == 60.0

    fake_clock.advance(230)  # t=1300: the bin of t=1000-1010 is 30 bins back, out of the window
    snap = stats.snapshot()
    assert snap["room"]["requests"] == 1 and [r["requests"] for r in snap["learners"]] == [1]
    fake_clock.advance(10)
    snap = stats.snapshot()
    assert snap["room"]["requests"] == 0 and snap["learners"] == []  # unlisted keys drop off


def test_every_listed_learner_is_shown_from_the_start_in_the_files_order(fake_clock):
    stats = room_stats(fake_clock, prefix="class-")
    snap = stats.snapshot()
    assert [r["label"] for r in snap["learners"]] == ["Ada", "Grace", TOSA]
    assert {r["status"] for r in snap["learners"]} == {"not_connected"}
    assert snap["statuses"]["not_connected"] == 3
    assert all(r["last_seen_s"] is None for r in snap["learners"])
    for _ in range(5):  # Grace is busier than Ada, and a prefix key comes along: no re-sorting
        stats.observe(rec(200), "kemu-2356-widu")
    stats.observe(rec(429), KEY_B)
    stats.observe(rec(200), "bafu-4827-seda")
    order = [r["label"] for r in stats.snapshot()["learners"]]
    assert order[:3] == ["Ada", "Grace", TOSA] and len(order) == 4
    rows = learners(stats)
    assert rows["Grace"]["requests"] == 5 and rows["Ada"]["status"] == "fine"
    assert rows[order[3]]["status"] == "rate_limited"
    fake_clock.advance(400)  # all silent past the window: listed learners stay, with last seen
    rows = learners(stats)
    assert set(rows) == {"Ada", "Grace", TOSA}
    assert rows["Ada"]["last_seen_s"] == 400.0 and rows["Ada"]["requests"] == 0
    page = render_panel(stats.snapshot())
    assert '<span class="ago" title="last seen">6 min</span>' in page  # short, beside the name


def test_a_mistyped_key_shows_as_that_learners_setup_error(fake_clock):
    stats = room_stats(fake_clock)
    stats.observe(rec(200), "bafu-4827-seda")
    stats.observe(rec(401, outcome="auth"), "bafu-4872-seda")  # Ada swapped two digits
    stats.observe(rec(404, path="/responses"), "kemu-2356-widu")  # Grace forgot /v1
    rows = learners(stats)
    assert (rows["Ada"]["status"], rows["Ada"]["detail"]) == ("setup_error", "wrong key (401)")
    assert rows["Grace"]["detail"] == "missing /v1 (404)"
    assert stats.snapshot()["statuses"]["setup_error"] == 2
    stats.observe(rec(200), "bafu-4827-seda")  # fixed: fine again
    assert learners(stats)["Ada"]["status"] == "fine"


def test_rejected_keys_and_refused_connections_are_counted_never_rows(fake_clock):
    stats = room_stats(fake_clock)
    for i in range(50):  # a flood of made-up keys, some twice
        stats.observe(rec(401, outcome="auth"), f"made-up-{i % 20:04d}-key")
    stats.observe(rec(404, path="/responses"), "not-a-learner-key")  # 404s come before the 401
    stats.observe(rec(401, outcome="auth"), None)
    busy = rec(503, outcome="server_busy")  # refused at --max-connections: no key was read
    stats.observe(busy, None)
    stats.observe(busy, None)
    stats.observe(rec(408, outcome="read_timeout"), None)
    snap = stats.snapshot()
    assert [r["label"] for r in snap["learners"]] == ["Ada", "Grace", TOSA]
    assert snap["not_learners"] == {
        "unknown_key": 51, "unknown_keys": 21, "no_key": 1, "connection_limit": 2, "cut_off": 1,
    }  # fmt: skip
    assert snap["room"]["requests"] == 55
    page = render_panel(snap)
    assert "(no key sent)" not in page
    assert '<span id="lv-not-connection_limit"><b>2</b> refused at the connection limit' in page
    assert "<b>51</b> with a key nobody was given (21 different keys)" in page
    fake_clock.advance(400)
    assert stats.snapshot()["not_learners"]["unknown_keys"] == 0  # forgotten with the window


def test_without_a_key_rule_a_refused_key_is_still_only_counted(fake_clock):
    stats = LiveStats(clock=fake_clock)  # e.g. --api-key: one key, any other gets a 401
    stats.observe(rec(401, outcome="auth"), KEY_B)
    stats.observe(rec(200), KEY_A)
    snap = stats.snapshot()
    assert len(snap["learners"]) == 1 and snap["not_learners"]["unknown_key"] == 1


def test_rows_are_labelled_without_the_key(fake_clock):
    twin = "class-other-0123456789"  # masks like KEY_A: same start, same end
    stats = LiveStats(clock=fake_clock)
    stats.observe(rec(200), KEY_A)
    stats.observe(rec(200), twin)
    text = json.dumps(stats.snapshot())
    assert KEY_A not in text and twin not in text
    assert "alpha" not in text and "other" not in text  # not even the middle of a key
    labels = [r["label"] for r in stats.snapshot()["learners"]]
    assert labels[0] + " #2" == labels[1]  # two masks that look alike are told apart


def test_max_rows_and_max_keys_bound_what_is_kept_and_shown(fake_clock):
    stats = LiveStats(clock=fake_clock, max_keys=3)
    for i in range(5):
        fake_clock.advance(1)
        stats.observe(rec(200), f"class-student-{i:04d}-secret")
    snap = stats.snapshot()
    assert len(snap["learners"]) == 3  # the two silent the longest were forgotten
    assert snap["room"]["requests"] == 5  # the room still counts everything
    assert len(stats.snapshot(max_rows=2)["learners"]) == 2
    assert stats.snapshot(max_rows=2)["hidden_learners"] == 1
    assert stats.snapshot(max_rows=2)["statuses"]["fine"] == 3  # the summary counts them all
    stats.reset()
    assert stats.snapshot()["learners"] == [] and stats.snapshot()["room"]["requests"] == 0


def test_reset_keeps_the_listed_learners_not_connected(fake_clock):
    stats = room_stats(fake_clock)
    stats.observe(rec(200), "bafu-4827-seda")
    stats.reset()
    assert [r["status"] for r in stats.snapshot()["learners"]] == ["not_connected"] * 3


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
    stats = LiveStats(clock=fake_clock, roster=list(keys.names.items()), owner=keys.owner)
    stats.observe(rec(200), KEY_A)
    stats.observe(rec(429), KEY_A)
    settings = {"rpm": 20, "tpm": None, "fail_rate": 0.1, "latency_ms": 0}
    page = render_page(stats.snapshot(), settings=settings, base_urls=["http://10.0.0.5:8000/v1"])
    assert not re.search(r'\b(src|href)\s*=\s*"(https?:)?//', page)  # nothing from elsewhere
    assert "<script src" not in page and "@import" not in page
    assert '<meta http-equiv="refresh"' in page  # the no-script fallback
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page and "<b>Ada</b>" not in page  # escaped
    for text in ("OK (solid blue)", "429 rate limited (orange, striped)",
                 "other errors (red, dotted)", "tokens (green)"):  # fmt: skip
        assert text in page
    for status in STATUSES:  # every status colour is written out in the summary
        assert f'class="chip s-{status}"' in page or status not in ("setup_error", "fine")
    assert 'data-status="rate_limited"' in page and ">rate limited<" in page
    assert "<b>20</b> requests/min" in page and "tokens/min: no limit" in page
    assert "chaos: <b>10%</b>" in page
    assert "OPENAI_BASE_URL=http://10.0.0.5:8000/v1" in page and "loopback" not in page
    assert KEY_A not in page


def test_the_address_line_never_hides_what_learners_must_type(fake_clock):
    snap = LiveStats(clock=fake_clock).snapshot()
    two = render_panel(snap, base_urls=["http://10.0.0.5:8000/v1", "http://192.168.1.20:8000/v1"])
    assert (
        "OPENAI_BASE_URL=http://10.0.0.5:8000/v1</code> or <code>OPENAI_BASE_URL=http://192" in two
    )
    unknown = render_panel(snap, base_urls=[])
    assert "this machine's address" in unknown and "--public-url" in unknown
    local = render_panel(snap, base_urls=["http://127.0.0.1:8000/v1"], loopback_only=True)
    assert "loopback: this machine only" in local and "--host 0.0.0.0" in local


def test_an_empty_room_says_how_to_list_learners(fake_clock):
    panel = render_panel(LiveStats(clock=fake_clock).snapshot())
    assert "No learner yet" in panel and "--keys-file" in panel


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
    with pytest.raises(openai.AuthenticationError):
        sim.client(api_key="not-class-key", max_retries=0).models.list()

    status, ctype, body = get(f"{root}/live.json")
    assert status == 200 and ctype.startswith("application/json")
    data = json.loads(body)
    assert data["room"]["requests"] == 7 and data["room"]["rate_limited"] == 2
    ada_row, other = data["learners"]  # the listed key first; the prefix key as it came
    assert ada_row["label"] == "Ada" and ada_row["status"] == "rate_limited"
    assert (ada_row["ok"], ada_row["rate_limited"]) == (3, 2) and ada_row["tokens"] > 0
    assert other["status"] == "fine"
    assert data["not_learners"]["unknown_key"] == 1  # the refused key: a count, not a row
    assert data["settings"]["rpm"] == 3
    assert KEY_A not in body and KEY_B not in body and "not-class-key" not in body

    status, ctype, page = get(f"{root}/live")
    assert status == 200 and ctype == "text/html; charset=utf-8"
    assert "Ada" in page and 'id="lv-room-429">2<' in page
    assert f"OPENAI_BASE_URL={sim.base_url}" in page  # a loopback server: loopback is right
    status, _, panel = get(f"{root}/live/panel")
    assert 'id="lv-room-requests">7<' in panel and "<html" not in panel
    # the view's own requests are neither logged nor counted
    assert len(sim.requests) == 7
    assert json.loads(get(f"{root}/live.json")[2])["room"]["requests"] == 7


def test_live_view_can_be_left_off(make_sim):
    sim = make_sim()
    attach(sim, live_view=False)
    with pytest.raises(urllib.error.HTTPError) as info:
        get(sim.base_url.removesuffix("/v1") + "/live")
    assert info.value.code == 404
