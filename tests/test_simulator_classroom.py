"""The class server: keys per learner, the admin endpoint and CLI, the loud non-loopback warning.

Everything that talks goes over real HTTP; learners' requests use the real SDK.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import openai
import pytest

from course_simulator import class_address, classroom
from course_simulator.class_address import is_loopback
from course_simulator.class_keys import ClassKeys, ClassroomError, make_keys, parse_keys
from course_simulator.classroom import attach, host_warning, parse_settings
from course_simulator.error_replies import SimError
from course_simulator.instructor import admin_request, format_settings
from course_simulator.instructor import main as instructor_main
from course_utils.pricing import DEFAULT_MODEL

ADA = "class-ada-7f3kq9x2m1"
GRACE = "class-grace-p0z8w4n6"
TOKEN = "admin-token-for-tests-0123456789"
KEYS_TEXT = f"""# the room
{ADA}   Ada Lovelace

{GRACE}\tGrace
class-nameless-key-42
"""


def ask(client: openai.OpenAI) -> str:
    """One small request: 'ok', or the SDK exception's class name."""
    try:
        client.responses.create(model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=16)
    except openai.APIError as err:
        return type(err).__name__
    return "ok"


# --- keys --------------------------------------------------------------------------------------


def test_a_keys_file_gives_keys_and_names():
    keys = parse_keys(KEYS_TEXT)
    assert keys == {ADA: "Ada Lovelace", GRACE: "Grace", "class-nameless-key-42": None}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no keys"),
        ("# only a comment\n\n", "holds no keys"),
        (f"{ADA} Ada\n{ADA} Bob\n", "line 2 repeats the key of line 1"),
        (f"{ADA} Ada\n{GRACE} Ada\n", "line 2 repeats the name 'Ada' of line 1"),
        ("clé-non-ascii\n", "line 1: the key must be printable ASCII"),
        (f"{ADA} {'x' * 61}\n", "name is over 60 characters"),
    ],
)
def test_bad_keys_files_are_refused_with_the_line(text, message):
    with pytest.raises(ClassroomError, match=re.escape(message)) as info:
        parse_keys(text)
    assert ADA not in str(info.value)  # the error names the line, never the key


def test_a_missing_keys_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ClassroomError, match="does not exist: make one with `python -m"):
        ClassKeys.from_file(tmp_path / "nope.txt")


def test_key_rules_accept():
    keys = ClassKeys(parse_keys(KEYS_TEXT), prefix="room7-", source="keys.txt")
    assert keys.accepts(ADA) and keys.accepts("room7-anything")
    assert not keys.accepts("room7-")  # the prefix alone is not a key
    assert not keys.accepts("class-not-listed-123")
    shown = repr(keys) + keys.describe()
    assert ADA not in shown and GRACE not in shown
    assert keys.describe() == (
        "accepted keys: 3 keys from keys.txt and any key starting with 'room7-'"
    )
    with pytest.raises(ClassroomError, match="must not be empty"):
        ClassKeys(prefix="")
    with pytest.raises(ClassroomError, match="without spaces"):
        ClassKeys(prefix="class x")


KEY_SHAPE = re.compile(r"[bdfghjkmnprstvwz][aeu][bdfghjkmnprstvwz][aeu]-[2-9]{4}-"
                       r"[bdfghjkmnprstvwz][aeu][bdfghjkmnprstvwz][aeu]")  # fmt: skip


def test_make_keys_are_fresh_named_and_easy_to_type():
    pairs = make_keys(300)
    keys = [k for k, _ in pairs]
    assert len(set(keys)) == 300
    assert all(KEY_SHAPE.fullmatch(k) for k in keys), keys[:3]
    assert not set("".join(keys)) & set("lI1oO0i")  # no look-alike characters at all
    assert pairs[0][1] == "learner-01" and pairs[-1][1] == "learner-300"
    assert all(k.startswith("class-") for k, _ in make_keys(3, "class-"))
    with pytest.raises(ClassroomError, match="from 1 to 1000"):
        make_keys(0)


ROOM = {"bafu-4827-seda": "Ada", "kemu-2356-widu": "Grace", "kemu-2356-wiga": "Alan"}


@pytest.mark.parametrize(
    ("typed", "hint", "owner"),
    [
        ("bafu-4872-seda", "The 2nd of its 3 groups (separated by '-') is mistyped", "Ada"),
        ("bafa-4827-seda", "The 1st of its 3 groups", "Ada"),
        ("BAFU-4827-SEDA", "Your key has capital letters", "Ada"),
        ("bafu4827-seda", "Your key has 2 group(s) separated by '-'; the keys here have 3", None),
        ("kemu-2356-wigu", "Check every group", None),  # one group from Grace's AND Alan's
        ("tosa-7788-nupe", "Check every group", None),
    ],
)
def test_a_mistyped_key_is_told_which_group_is_wrong_without_a_key(typed, hint, owner):
    keys = ClassKeys(ROOM)
    with pytest.raises(SimError) as info:
        keys.check(typed)
    message = info.value.message
    assert info.value.status == 401 and hint in message
    assert "Check OPENAI_API_KEY against your slip" in message
    assert not any(k in message or k.upper() in message for k in ROOM)
    assert typed not in message and typed.split("-")[0] not in message
    assert (ROOM.get(keys.owner(typed) or "")) == owner
    assert keys.check("bafu-4827-seda") is True


def test_the_typo_hint_reaches_the_learner_through_the_sdk(make_sim):
    sim = make_sim()
    attach(sim, keys=ClassKeys(ROOM))
    learner = sim.client(api_key="bafu-4827-sedu", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        learner.responses.create(model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=16)
    assert "The 3rd of its 3 groups" in str(info.value)
    assert "seda" not in str(info.value) and "sedu" not in str(info.value)
    assert ask(sim.client(api_key="bafu-4827-seda", max_retries=0)) == "ok"


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "send a JSON object with the settings to change"),
        ([1], "send a JSON object"),
        ({"rpm": 30, "burst": 2}, "unknown setting(s) 'burst'"),
        ({"rpm": 0}, "rpm must be from 1 to 1,000,000 (or null for no limit), got 0"),
        ({"rpm": "30"}, "rpm must be a whole number"),
        ({"rpm": 2.5}, "rpm must be a whole number"),
        ({"rpm": True}, "rpm must be a whole number"),
        ({"tpm": float("inf")}, "tpm must be a whole number"),
        ({"fail_rate": 1.5}, "fail_rate must be a probability from 0 to 1"),
        ({"fail_rate": float("nan")}, "fail_rate must be a probability"),
        ({"latency_ms": -1}, "latency_ms must be a number of milliseconds from 0 to 30,000"),
    ],
)
def test_bad_settings_are_refused(body, message):
    with pytest.raises(ClassroomError, match=re.escape(message)):
        parse_settings(body)


def test_good_settings_parse():
    assert parse_settings({"rpm": 30.0, "tpm": None, "fail_rate": 0, "latency_ms": 250}) == {
        "rpm": 30, "tpm": None, "fail_rate": 0.0, "latency_ms": 250.0,
    }  # fmt: skip


# --- the class server over HTTP, with the real SDK ---------------------------------------------


def test_each_learner_has_their_own_bucket(make_sim):
    sim = make_sim(rpm=2)
    attach(sim, keys=ClassKeys(parse_keys(KEYS_TEXT), prefix="room7-"))
    ada = sim.client(api_key=ADA, max_retries=0)
    grace = sim.client(api_key=GRACE, max_retries=0)
    assert [ask(ada) for _ in range(3)] == ["ok", "ok", "RateLimitError"]
    assert [ask(grace) for _ in range(2)] == ["ok", "ok"]  # Ada's herd did not empty Grace's
    assert ask(sim.client(api_key="room7-walk-in", max_retries=0)) == "ok"  # the prefix rule
    assert ask(sim.client(api_key="class-made-up-key", max_retries=0)) == "AuthenticationError"
    with pytest.raises(openai.AuthenticationError) as info:
        sim.client(api_key="class-made-up-key", max_retries=0).models.list()
    assert "class-made-up-key" not in str(info.value)


def test_the_api_key_flag_still_works_beside_a_key_rule(make_sim):
    sim = make_sim(api_key="sk-instructor-own-key-123")
    attach(sim, keys=ClassKeys(prefix="class-"))
    assert ask(sim.client(api_key="sk-instructor-own-key-123", max_retries=0)) == "ok"
    assert ask(sim.client(api_key="class-x1", max_retries=0)) == "ok"
    assert ask(sim.client(api_key="sk-other", max_retries=0)) == "AuthenticationError"


def admin(sim, method="GET", body=None, token=TOKEN, raw=None):
    """(status, JSON body) of one call to /admin/limits."""
    url = sim.base_url.removesuffix("/v1") + "/admin/limits"
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_admin_changes_limits_and_chaos_while_it_runs(make_sim):
    sim = make_sim(rpm=2)
    attach(sim, keys=ClassKeys(prefix="class-"), admin_token=TOKEN)
    ada = sim.client(api_key=ADA, max_retries=0)
    assert [ask(ada) for _ in range(3)] == ["ok", "ok", "RateLimitError"]

    status, body = admin(sim)
    assert status == 200 and body["rpm"] == 2 and body["fail_rate"] == 0.0
    status, body = admin(sim, "POST", {"rpm": 5})
    assert status == 200 and body["rpm"] == 5 and body["changed"] == ["rpm"]
    reply = ada.responses.with_raw_response.create(model=DEFAULT_MODEL, input="hi")
    assert reply.headers["x-ratelimit-limit-requests"] == "5"  # and the bucket started full
    assert [ask(ada) for _ in range(5)] == ["ok"] * 4 + ["RateLimitError"]

    status, body = admin(sim, "POST", {"rpm": None, "fail_rate": 1.0})
    assert status == 200 and body["rpm"] is None and body["fail_rate"] == 1.0
    assert {ask(ada) for _ in range(6)} - {"ok"}  # every request now draws a transient fault
    assert ask(ada) != "ok"
    status, body = admin(sim, "POST", {"fail_rate": 0})
    assert [ask(ada) for _ in range(10)] == ["ok"] * 10  # no limit any more, no chaos
    assert not any(r.path.startswith("/admin") for r in sim.requests)  # not in the log


def test_admin_refuses_bad_tokens_and_bad_bodies(make_sim):
    sim = make_sim(rpm=2)
    attach(sim, keys=ClassKeys({ADA: "Ada"}), admin_token=TOKEN)
    for token in (None, "wrong-token-of-some-length", ADA):
        status, body = admin(sim, "POST", {"rpm": 100}, token=token)
        assert status == 401 and body["error"]["code"] == "invalid_admin_token"
        assert "admin token" in body["error"]["message"]
    status, body = admin(sim, "POST", raw=b"{not json")
    assert status == 400 and "send a JSON object" in body["error"]["message"]
    status, body = admin(sim, "POST", {"rpm": -3})
    assert status == 400 and "rpm must be from 1" in body["error"]["message"]
    assert sim.limiter.rpm == 2  # nothing changed
    assert TOKEN not in json.dumps(body)


def test_admin_is_off_without_a_token_and_says_how_to_turn_it_on(make_sim):
    sim = make_sim()
    attach(sim)
    status, body = admin(sim, "POST", {"rpm": 1})
    assert status == 403 and body["error"]["code"] == "admin_disabled"
    assert "COURSE_SIM_ADMIN_TOKEN" in body["error"]["message"]


@pytest.mark.parametrize(
    ("token", "message"),
    [("short", "at least 16 characters"), ("class-looks-like-a-student", "also accepted as a")],
)
def test_an_unsafe_admin_token_is_refused(make_sim, token, message):
    with pytest.raises(ClassroomError, match=message):
        attach(make_sim(), keys=ClassKeys(prefix="class-"), admin_token=token)


def test_a_bug_in_a_side_route_is_a_500_without_the_traceback(make_sim):
    sim = make_sim()
    room = attach(sim)
    sim.side_routes[("GET", "/live.json")] = lambda call: {}["missing"]  # a bug
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(sim.base_url.removesuffix("/v1") + "/live.json", timeout=10)
    body = json.load(info.value)
    assert info.value.code == 500 and body["error"]["code"] == "simulator_internal_error"
    assert "Traceback" not in body["error"]["message"] and "req_" in body["error"]["message"]
    assert len(sim.server_errors) == 1 and "KeyError" in sim.server_errors[0]
    sim.server_errors.clear()
    assert room.stats is not None


def test_attach_twice_is_refused(make_sim):
    sim = make_sim()
    attach(sim)
    with pytest.raises(ClassroomError, match="attach\\(\\) it only once"):
        attach(sim)
    assert len(sim.observers) == 1


def test_an_observer_bug_is_reported_not_passed_to_the_learner(make_sim):
    sim = make_sim()
    sim.observers.append(lambda record, key: 1 / 0)
    assert ask(sim.client(max_retries=0)) == "ok"
    assert len(sim.server_errors) == 1 and "ZeroDivisionError" in sim.server_errors[0]
    sim.server_errors.clear()


# --- binding beyond loopback -------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_warning(host):
    assert is_loopback(host)
    assert host_warning(host, 8000, key_rule=False, admin=False) is None


def test_other_hosts_get_a_loud_warning():
    text = host_warning("0.0.0.0", 8000, key_rule=False, admin=False, urls=[])
    assert text is not None and text.startswith("!!!")
    assert "not loopback" in text and "ANY key is accepted" in text
    assert "admin endpoint is off" in text and ":8000/v1" in text and "--public-url" in text
    quieter = host_warning("192.168.1.20", 8000, key_rule=True, admin=True)
    assert quieter is not None and "OPENAI_BASE_URL=http://192.168.1.20:8000/v1" in quieter
    assert "ANY key" not in quieter and "admin endpoint is off" not in quieter
    two = host_warning("::", 8000, key_rule=True, admin=True, urls=["http://a/v1", "http://b/v1"])
    assert two is not None and "OPENAI_BASE_URL=http://a/v1" in two and "http://b/v1" in two


# --- the address learners are told -------------------------------------------------------------


def found(*addresses: str):
    return lambda: list(addresses)


@pytest.mark.parametrize(
    ("host", "public", "expected"),
    [
        ("127.0.0.1", None, ["http://127.0.0.1:8000/v1"]),  # a loopback server: this machine
        ("::1", None, ["http://[::1]:8000/v1"]),
        ("0.0.0.0", None, ["http://192.168.1.20:8000/v1", "http://10.0.0.5:8000/v1"]),
        ("::", None, ["http://192.168.1.20:8000/v1", "http://10.0.0.5:8000/v1"]),
        ("192.168.1.20", None, ["http://192.168.1.20:8000/v1"]),
        ("0.0.0.0", "http://class.local:8000/v1", ["http://class.local:8000/v1"]),
    ],
)
def test_learners_are_told_an_address_they_can_reach(host, public, expected):
    urls = class_address.learner_urls(
        host, 8000, public_url=public, addresses=found("192.168.1.20", "10.0.0.5")
    )
    assert urls == expected


def test_this_machines_addresses_are_never_loopback():
    for address in class_address.host_addresses():
        assert not is_loopback(address) and address != "0.0.0.0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://192.168.1.20:8000", "http://192.168.1.20:8000/v1"),
        ("https://class.example.org/v1/", "https://class.example.org/v1"),
    ],
)
def test_public_url_gets_its_v1(text, expected):
    assert class_address.parse_public_url(text) == expected


@pytest.mark.parametrize(
    "text", ["192.168.1.20:8000", "ftp://x", "http://x/api", "http://x:8000?a=1", "http://"]
)
def test_a_bad_public_url_is_refused(text):
    with pytest.raises(ClassroomError, match="--public-url must look like http://HOST:PORT"):
        class_address.parse_public_url(text)


def test_a_loopback_public_url_is_refused_for_a_server_bound_elsewhere():
    from course_simulator import Simulator

    with pytest.raises(ClassroomError, match="is a loopback address: on a learner's laptop"):
        attach(Simulator(host="0.0.0.0"), public_url="http://127.0.0.1:8000")


def test_the_projected_page_shows_a_reachable_address_not_the_browsers(monkeypatch):
    """Opened on the instructor's machine (127.0.0.1), a server bound to every interface still
    tells learners its network address: their 127.0.0.1 is their own laptop."""
    from course_simulator import Simulator

    monkeypatch.setattr(class_address, "host_addresses", found("192.0.2.7"))
    sim = Simulator(host="0.0.0.0", port=0).start()
    try:
        attach(sim, keys=ClassKeys({ADA: "Ada"}))
        port = sim.base_url.rsplit(":", 1)[1].removesuffix("/v1")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/live", timeout=10) as reply:
            page = reply.read().decode()
    finally:
        sim.stop()
    line = re.search(r'<p class="address" id="lv-address">(.*?)</p>', page)
    assert line is not None
    assert f"OPENAI_BASE_URL=http://192.0.2.7:{port}/v1" in line.group(1)
    assert "127.0.0.1" not in line.group(1) and "0.0.0.0" not in line.group(1)


def test_the_public_url_is_what_the_page_shows(make_sim):
    sim = make_sim()
    attach(sim, public_url="http://192.168.1.20:8000")
    with urllib.request.urlopen(sim.base_url.removesuffix("/v1") + "/live", timeout=10) as r:
        page = r.read().decode()
    assert "OPENAI_BASE_URL=http://192.168.1.20:8000/v1" in page
    assert "loopback: this machine only" in page  # but the server itself listens on loopback


# --- a restart keeps the admin settings ---------------------------------------------------------


def test_admin_changes_survive_a_restart_and_the_start_says_so(make_sim, tmp_path):
    keys_file = tmp_path / "class-keys.txt"
    keys_file.write_text(KEYS_TEXT)
    state = classroom.state_path_for(keys_file)
    assert state == tmp_path / "class-keys.state.json"
    first = make_sim(rpm=60)
    room = attach(first, keys=ClassKeys.from_file(keys_file), admin_token=TOKEN, state_path=state)
    assert "saved to class-keys.state.json" in room.start_report[0]
    reply = admin_request(first.base_url, TOKEN, {"rpm": 20, "fail_rate": 0.2})
    assert reply["saved_to"] == "class-keys.state.json"
    assert state.stat().st_mode & 0o777 == 0o600
    first.stop()

    again = make_sim(rpm=60)  # the same command line again
    room = attach(again, keys=ClassKeys.from_file(keys_file), admin_token=TOKEN, state_path=state)
    assert admin_request(again.base_url, TOKEN) | {"changed": []} == {
        "object": "class.settings", "rpm": 20, "tpm": None, "fail_rate": 0.2,
        "latency_ms": 0.0, "changed": [],
    }  # fmt: skip
    restored, lost = room.start_report
    assert restored.startswith("RESTORED from class-keys.state.json (saved ")
    assert "rpm=20 tpm=off fail_rate=20% latency_ms=0" in restored
    assert "delete class-keys.state.json to start from the command line's" in restored
    assert lost.startswith("LOST in the restart: the live view's history")
    assert "batch" in lost and "rate-limit buckets" in lost
    assert not any(k in json.dumps(json.loads(state.read_text())) for k in (ADA, GRACE, TOKEN))


def test_a_broken_state_file_is_reported_and_the_server_still_starts(make_sim, tmp_path):
    state = tmp_path / "keys.state.json"
    state.write_text('{"settings": {"rpm": -3}}')
    sim = make_sim(rpm=60)
    room = attach(sim, admin_token=TOKEN, state_path=state)
    assert room.start_report[0].startswith("NOT RESTORED: the saved settings keys.state.json")
    assert "rpm must be from 1" in room.start_report[0]
    assert sim.limiter.rpm == 60
    admin_request(sim.base_url, TOKEN, {"rpm": 30})  # the next change writes a good file
    assert classroom.load_state(state) is not None


def test_a_change_that_cannot_be_saved_says_so(make_sim, tmp_path):
    sim = make_sim()
    attach(sim, admin_token=TOKEN, state_path=tmp_path / "no-such-dir" / "keys.state.json")
    reply = admin_request(sim.base_url, TOKEN, {"rpm": 30})
    assert reply["rpm"] == 30 and "could not be saved" in reply["save_error"]


# --- the CLI, in real processes ----------------------------------------------------------------


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "course_simulator", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != classroom.ADMIN_TOKEN_ENV}
    return {**env, **extra}


@pytest.mark.slow
def test_class_server_cli_end_to_end(tmp_path: Path):
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text(KEYS_TEXT)
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_simulator", "--port", "0", "--rpm", "2",
         "--keys-file", str(keys_file), "--admin-token-file", str(token_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        m = re.fullmatch(r"Simulator listening on (http://127\.0\.0\.1:(\d+))/v1\n", first)
        assert m, first
        banner = [proc.stdout.readline() for _ in range(6)]
        root = m.group(1)
        assert "class keys only" in banner[0]
        assert banner[1].startswith("accepted keys: 3 keys from keys.txt")
        assert banner[2] == f"Learners: OPENAI_BASE_URL={root}/v1\n"
        assert f"Live view (to project): {root}/live\n" in banner
        assert any(f"admin --url {root} set" in line for line in banner)
        assert banner[5].startswith("Admin changes are saved to keys.state.json")

        ada = openai.OpenAI(base_url=root + "/v1", api_key=ADA, max_retries=0)
        assert [ask(ada) for _ in range(3)] == ["ok", "ok", "RateLimitError"]
        out = run_cli("admin", "--url", root, "--token-file", str(token_file), "set",
                      "--rpm", "40", "--fail-rate", "0.25")  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert out.stdout == (
            "Now: rpm=40 tpm=off fail_rate=25% latency_ms=0 "
            "(every key's buckets start full at the new limits)\n"
            "Saved to keys.state.json beside the keys file: a restart restores it.\n"
        )
        env = clean_env(**{classroom.ADMIN_TOKEN_ENV: TOKEN})
        shown = run_cli("admin", "--url", root + "/v1", "show", env=env)
        assert shown.returncode == 0
        assert shown.stdout == "rpm=40 tpm=off fail_rate=25% latency_ms=0\n"
        with urllib.request.urlopen(root + "/live.json", timeout=10) as reply:
            live = json.load(reply)
        row = live["learners"][0]
        assert row["label"] == "Ada Lovelace" and row["status"] == "rate_limited"
        assert (row["ok"], row["rate_limited"]) == (2, 1)
        assert [r["status"] for r in live["learners"][1:]] == ["not_connected"] * 2
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    everything = first + "".join(banner) + rest + err + out.stdout + out.stderr + shown.stdout
    for secret in (ADA, GRACE, TOKEN):
        assert secret not in everything
    assert err == ""  # loopback: no warning


@pytest.mark.slow
def test_cli_restart_says_loudly_what_it_restored_and_lost(tmp_path: Path):
    keys_file = tmp_path / "class-keys.txt"
    keys_file.write_text(KEYS_TEXT)
    classroom.save_state(
        classroom.state_path_for(keys_file),
        {"rpm": 20, "tpm": 10_000, "fail_rate": 0.2, "latency_ms": 0},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_simulator", "--port", "0", "--rpm", "60",
         "--keys-file", str(keys_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    restored = next(line for line in lines if line.startswith("RESTORED"))
    assert "rpm=20 tpm=10000 fail_rate=20% latency_ms=0" in restored
    assert any(line.startswith("LOST in the restart:") for line in lines)


@pytest.mark.slow
def test_cli_warns_loudly_off_loopback(tmp_path: Path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_simulator", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("Simulator listening on http://0.0.0.0:")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "WARNING: listening on 0.0.0.0" in err and "ANY key is accepted" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--keys-file", "/nonexistent/keys.txt"], "does not exist: make one with"),
        (["--key-prefix", "has space"], "--key-prefix must be printable ASCII without spaces"),
        (["--admin-token-file", "/nonexistent/token"], "cannot read the admin token file"),
    ],
)
def test_cli_refuses_bad_class_settings(args, message):
    out = run_cli("--port", "0", *args, env=clean_env())
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and message in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_cli_refuses_a_short_admin_token_from_the_environment():
    out = run_cli("--port", "0", env=clean_env(**{classroom.ADMIN_TOKEN_ENV: "short"}))
    assert out.returncode == 2 and "at least 16 characters" in out.stderr
    assert "short" not in out.stderr.replace("at least", "")


# --- the instructor's commands, in process -----------------------------------------------------


def test_make_keys_writes_a_private_file_and_never_prints_a_key(tmp_path, capsys):
    target = tmp_path / "keys.txt"
    assert instructor_main(["make-keys", "5", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    keys = parse_keys(target.read_text())
    assert len(keys) == 5 and set(keys.values()) == {f"learner-0{i}" for i in range(1, 6)}
    assert not any(k in out for k in keys) and "Wrote 5 keys" in out
    assert target.stat().st_mode & 0o777 == 0o600
    assert instructor_main(["make-keys", "5", "-o", str(target)]) == 2
    assert "exists already" in capsys.readouterr().err


def test_admin_cli_errors_are_one_line(capsys, make_sim):
    assert instructor_main(["admin", "--url", "http://127.0.0.1:9", "show"], environ={}) == 2
    assert "no admin token: set COURSE_SIM_ADMIN_TOKEN" in capsys.readouterr().err
    env = {classroom.ADMIN_TOKEN_ENV: TOKEN}
    assert instructor_main(["admin", "--url", "localhost:8000", "show"], environ=env) == 2
    assert "--url must look like http://HOST:PORT" in capsys.readouterr().err
    sim = make_sim()
    root = sim.base_url.removesuffix("/v1")
    sim.stop()
    assert instructor_main(["admin", "--url", root, "show"], environ=env) == 1
    assert "cannot reach" in capsys.readouterr().err
    assert instructor_main(["admin", "--url", root, "set"], environ=env) == 2
    assert "nothing to change" in capsys.readouterr().err
    assert instructor_main(["admin", "--url", root, "set", "--fail-rate", "3"], environ=env) == 2
    assert "fail_rate must be a probability" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        instructor_main(["admin", "--url", root, "set", "--rpm", "lots"], environ=env)
    assert "not a whole number (or 'off'" in capsys.readouterr().err


def test_admin_request_against_a_server_that_refuses(make_sim):
    sim = make_sim()
    attach(sim, admin_token=TOKEN)
    with pytest.raises(ClassroomError, match=r"refused \(401\): The admin endpoint needs"):
        admin_request(sim.base_url, "not-the-admin-token")
    assert admin_request(sim.base_url, TOKEN, {"tpm": 5000})["tpm"] == 5000
    assert format_settings({"rpm": None, "tpm": 5000, "fail_rate": 0.05, "latency_ms": 0}) == (
        "rpm=off tpm=5000 fail_rate=5% latency_ms=0"
    )


def test_the_keys_file_and_its_saved_settings_are_git_ignored():
    import fnmatch

    root = Path(__file__).resolve().parents[1]
    patterns = [
        line.strip()
        for line in (root / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name in ("class-keys.txt", "class-keys.state.json", "class-keys-monday.txt"):
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name
