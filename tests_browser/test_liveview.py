"""The class server's live view in a real browser: the room sends traffic, the numbers move.

A class server (the simulator with a keys file's names and a low RPM per key) runs in this
process; the page is opened once and never reloaded by the test, so every change seen is the
page refreshing itself. Four learners send bursts through the real SDK and meet real 429s.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import openai
import pytest
from labkit import SCREENSHOTS, VIEWPORT
from playwright.sync_api import Browser, Page, expect

from course_simulator import Simulator
from course_simulator.classroom import ClassKeys, Classroom, attach
from course_utils.pricing import DEFAULT_MODEL

LEARNERS = {
    "class-ada-k3v9q2m8x1": "Ada",
    "class-grace-w7p1z5n0": "Grace",
    "class-alan-r4t8y2u6i0": "Alan",
    "class-katherine-9o8i7": "Katherine",
}
RPM = 5  # per key: a burst of 8 meets its 429s at once


@pytest.fixture
def room() -> Iterator[Classroom]:
    sim = Simulator(rpm=RPM).start()
    try:
        yield attach(sim, keys=ClassKeys(LEARNERS, prefix="class-"))
    finally:
        sim.stop()
    assert not sim.server_errors, sim.server_errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


def burst(base_url: str, keys: list[str], per_key: int) -> list[str]:
    """Each key sends ``per_key`` requests at once, as an impatient room does."""
    outcomes: list[str] = []
    lock = threading.Lock()

    def learner(key: str) -> None:
        client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)
        for _ in range(per_key):
            try:
                client.responses.create(
                    model=DEFAULT_MODEL, input="Explain a 429 in one sentence.",
                    max_output_tokens=40,
                )  # fmt: skip
                result = "ok"
            except openai.RateLimitError:
                result = "429"
            with lock:
                outcomes.append(result)
        client.close()

    threads = [threading.Thread(target=learner, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def number(page: Page, ident: str) -> int:
    return int(page.locator(f"#lv-room-{ident}").inner_text().replace(",", ""))


def test_the_live_view_follows_the_rooms_traffic(room: Classroom, page: Page) -> None:
    root = room.sim.base_url.removesuffix("/v1")
    page.goto(f"{root}/live")
    expect(page.get_by_text("No requests yet")).to_be_visible()
    expect(page.locator("#lv-room-requests")).to_have_text("0")
    expect(page.get_by_text("requests/min", exact=False)).to_contain_text(f"{RPM}")

    keys = list(LEARNERS)
    first = burst(room.sim.base_url, keys[:2], per_key=8)  # Ada and Grace: 5 ok, 3 refused each
    assert first.count("429") == 6
    expect(page.locator("#lv-room-requests")).to_have_text("16", timeout=10_000)
    expect(page.locator("#lv-room-429")).to_have_text("6")
    table = page.locator("#lv-keys")
    expect(table.get_by_role("row", name="Ada")).to_contain_text("8")
    expect(table.get_by_role("row", name="Grace")).to_be_visible()
    assert table.get_by_role("row", name="Alan").count() == 0

    second = burst(room.sim.base_url, keys, per_key=8)  # the whole room; Ada and Grace are empty
    refused = first.count("429") + second.count("429")
    expect(page.locator("#lv-room-requests")).to_have_text("48", timeout=10_000)
    expect(page.locator("#lv-room-429")).to_have_text(str(refused))
    assert number(page, "ok") + number(page, "429") == 48
    assert number(page, "tokens") > 0
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table.get_by_role("row", name="Katherine")).to_be_visible()
    # every colour has its words beside it, and no key is on the screen
    for words in ("OK (solid blue)", "429 rate limited (orange, striped)",
                  "other errors (red, dotted)"):  # fmt: skip
        expect(page.get_by_text(words)).to_be_visible()
    text = page.locator("body").inner_text()
    assert not any(key in text for key in LEARNERS)
    expect(page.locator("#status")).to_contain_text("Updated")
    assert page.locator("svg.chart rect[data-outcome=rate_limited]").count() >= 1

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "live-view.png"), full_page=True)

    room.sim.stop()  # the server goes away: the page says so instead of freezing silently
    expect(page.locator("#status")).to_contain_text("Cannot reach the class server", timeout=10_000)
