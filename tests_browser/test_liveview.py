"""The class server's live view in a real browser: who is stuck, for a room of 30, on one screen.

A class server (the simulator with a keys file of 30 learners and a low RPM per key) runs in
this process. Learners send requests through the real SDK and land in every status: fine, rate
limited (their own 429s), failing (a fault), setup error (a mistyped key: 401; a base URL without
``/v1``: 404), and not connected. The page is opened once and never reloaded by the test, so
every change seen is the page refreshing itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import openai
import pytest
from labkit import SCREENSHOTS
from playwright.sync_api import Browser, Page, expect

from course_simulator import Simulator
from course_simulator.class_keys import ClassKeys, make_keys
from course_simulator.classroom import Classroom, attach
from course_utils.pricing import DEFAULT_MODEL

PROJECTOR = {"width": 1280, "height": 720}
ZOOMED = {"width": 1024, "height": 576}  # the same projector with the browser zoomed to 125%
RPM = 3  # per key: a fourth request in the minute is refused
NAMES = [
    "Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Margaret", "Dennis",
    "Frances", "Ken", "Radia", "Tim", "Sophie", "Linus", "Hedy", "John", "Shafi", "Niklaus",
    "Jean", "Guido", "Annie", "Bjarne", "Mary Kenneth Keller", "Leslie", "Evelyn", "Vint",
    "Kathleen", "Tony", "Anita",
]  # fmt: skip
ROSTER = {key: name for (key, _), name in zip(make_keys(30), NAMES, strict=True)}
KEYS = list(ROSTER)


def typo(key: str) -> str:
    """The key with one character of its middle group (four digits) typed wrong."""
    word, digits, last = key.split("-")
    wrong = "9" if digits[0] != "9" else "8"
    return f"{word}-{wrong}{digits[1:]}-{last}"


@pytest.fixture
def room() -> Iterator[Classroom]:
    sim = Simulator(rpm=RPM).start()
    try:
        yield attach(sim, keys=ClassKeys(ROSTER))
    finally:
        sim.stop()
    assert not sim.server_errors, sim.server_errors


@pytest.fixture(params=[PROJECTOR, ZOOMED], ids=["1280x720", "1280x720-at-125pct"])
def screen(request: pytest.FixtureRequest) -> dict[str, int]:
    return dict(request.param)


@pytest.fixture
def page(browser: Browser, screen: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=screen)
    try:
        yield context.new_page()
    finally:
        context.close()


def send(base_url: str, key: str, times: int = 1, **headers: str) -> list[str]:
    """``times`` small requests on ``key``: 'ok' or the SDK exception's class name, each."""
    client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)
    outcomes = []
    for _ in range(times):
        try:
            client.responses.create(
                model=DEFAULT_MODEL, input="Explain a 429 in one sentence.",
                max_output_tokens=40, extra_headers=headers,
            )  # fmt: skip
            outcomes.append("ok")
        except openai.APIError as err:
            outcomes.append(type(err).__name__)
    client.close()
    return outcomes


def together(jobs: list[tuple]) -> None:
    """Run ``send`` jobs at once, as a room does."""
    threads = [threading.Thread(target=send, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def status_of(page: Page, name: str) -> str | None:
    cell = page.locator("#lv-learners li.learner").filter(has_text=name).first
    return cell.get_attribute("data-status")


def test_thirty_learners_fit_one_projector_screen_with_who_is_stuck(
    room: Classroom, page: Page, screen: dict[str, int]
) -> None:
    url = room.sim.base_url
    root = url.removesuffix("/v1")
    page.goto(f"{root}/live")
    cells = page.locator("#lv-learners li.learner")
    expect(cells).to_have_count(30)  # every key of the keys file, before anyone connects
    expect(page.locator("#lv-count-not_connected")).to_have_text("30")

    assert send(url, KEYS[0]) == ["ok"]  # Ada: fine
    assert send(url, KEYS[1], RPM + 1)[-1] == "RateLimitError"  # Grace: over her own limit
    assert send(url, KEYS[2], 1, **{"X-Sim-Fault": "server_error"}) == ["InternalServerError"]
    assert send(url, typo(KEYS[3])) == ["AuthenticationError"]  # Katherine mistyped her key
    assert send(root, KEYS[4]) == ["NotFoundError"]  # Edsger forgot /v1
    assert send(url, "made-up-key-1234") == ["AuthenticationError"]  # nobody's key
    together([(url, key) for key in KEYS[5:25]])  # twenty more learners, at once: all fine

    expect(page.locator("#lv-count-fine")).to_have_text("21", timeout=10_000)
    expect(page.locator("#lv-count-setup_error")).to_have_text("2")
    expect(page.locator("#lv-count-rate_limited")).to_have_text("1")
    expect(page.locator("#lv-count-failing")).to_have_text("1")
    expect(page.locator("#lv-count-not_connected")).to_have_text("5")
    assert status_of(page, "Ada") == "fine"
    assert status_of(page, "Grace") == "rate_limited"
    assert status_of(page, "Alan") == "failing"
    katherine = cells.filter(has_text="Katherine")
    assert katherine.get_attribute("data-status") == "setup_error"
    expect(katherine).to_contain_text("wrong key (401)")
    expect(cells.filter(has_text="Edsger")).to_contain_text("missing /v1 (404)")
    expect(cells.filter(has_text="Anita")).to_contain_text("never seen")
    # the made-up key is a count, not a row; the order is the keys file's, whatever happened
    expect(page.locator("#lv-not-unknown_key")).to_contain_text("1 with a key nobody was given")
    expect(cells).to_have_count(30)
    labels = [t.strip() for t in page.locator("#lv-learners .name").all_inner_texts()]
    assert labels == NAMES

    # one screen: every learner inside the viewport, with nothing scrolled (measured in one go:
    # the page swaps its panel every 2 s)
    assert page.evaluate("window.scrollY") == 0
    boxes = cells.evaluate_all("cells => cells.map(c => c.getBoundingClientRect().toJSON())")
    assert len(boxes) == 30
    for i, box in enumerate(boxes):
        assert box["width"] > 100 and box["height"] > 30, (NAMES[i], box)
        assert box["x"] >= 0 and box["y"] >= 0, (NAMES[i], box)
        assert box["x"] + box["width"] <= screen["width"], (NAMES[i], box)
        assert box["y"] + box["height"] <= screen["height"], (NAMES[i], box)
    address = page.locator("#lv-address")
    expect(address).to_contain_text(f"OPENAI_BASE_URL={url}")
    top = address.evaluate("a => a.getBoundingClientRect().top")
    assert top < 100  # the first thing under the title
    text = page.locator("body").inner_text()
    assert not any(key in text for key in KEYS)
    assert typo(KEYS[3]) not in text and "made-up-key" not in text

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"live-view-30-learners-{screen['width']}.png"))

    room.sim.stop()  # the server goes away: the page says so instead of freezing silently
    expect(page.locator("#status")).to_contain_text("Cannot reach the class server", timeout=10_000)


@pytest.mark.parametrize("screen", [PROJECTOR], ids=["1280x720"])
def test_the_rooms_bars_follow_its_traffic(room: Classroom, page: Page) -> None:
    root = room.sim.base_url.removesuffix("/v1")
    page.goto(f"{root}/live")
    expect(page.locator("#lv-room-requests")).to_have_text("0")
    expect(page.get_by_text("requests/min", exact=False)).to_contain_text(f"{RPM}")

    together([(room.sim.base_url, key, 5) for key in KEYS[:4]])  # 3 answered, 2 refused each
    expect(page.locator("#lv-room-requests")).to_have_text("20", timeout=10_000)
    expect(page.locator("#lv-room-429")).to_have_text("8")
    expect(page.locator("#lv-room-ok")).to_have_text("12")
    assert int(page.locator("#lv-room-tokens").inner_text().replace(",", "")) > 0
    assert page.locator("svg.chart rect[data-outcome=rate_limited]").count() >= 1
    for words in ("OK (solid blue)", "429 rate limited (orange, striped)",
                  "other errors (red, dotted)"):  # fmt: skip
        expect(page.get_by_text(words)).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Updated")
