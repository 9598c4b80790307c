"""The class server: one simulator for the whole room, a key per learner, limits changed live.

``attach(sim, keys=, admin_token=)`` turns a ``Simulator`` into the class server:

- **Keys.** ``ClassKeys`` accepts the keys of a keys file (one key a line, an optional name after
  it) and/or any key that starts with a prefix (``--key-prefix class-``). Every key gets its own
  RPM/TPM buckets (the limiter is per key already), so each learner meets their own 429s.
  ``make_keys`` writes keys a learner can type from a slip (``bafu-4827-seda``: no look-alike
  characters, short groups), and a mistyped key's 401 says which group is wrong.
- **Admin.** ``GET /admin/limits`` shows, ``POST /admin/limits`` changes ``rpm``, ``tpm``,
  ``fail_rate`` and ``latency_ms`` while the server runs (``python -m course_simulator
  admin ... set --rpm 30`` calls it). It needs the admin token (``Authorization: Bearer``), read
  from ``COURSE_SIM_ADMIN_TOKEN`` or ``--admin-token-file``; with no token the endpoint answers
  403 saying how to turn it on. Bad values get a 400 naming the field and the rule. Each change
  is saved beside the keys file (``class-keys.state.json``) and restored by the next start,
  which says what it restored and what a restart loses.
- **Address.** The live view and the banner tell learners an ``OPENAI_BASE_URL`` they can reach:
  ``--public-url``, else this machine's addresses when bound to every interface; never loopback
  for a server bound elsewhere (``learner_urls``).
- **Live view.** ``GET /live`` (the page to project), ``/live/panel`` (what it redraws) and
  ``/live.json`` (the same data), drawn by ``liveview``. They need no token, on purpose: the
  page is made to be projected, and a token in its address would be on the screen for the room
  to copy; what it shows is already the room's to see (counts, names from the keys file or
  masked keys, the limits), never a full key or a prompt. ``attach(live_view=False)`` (CLI:
  ``--no-live-view``) turns it off.

A key, a keys file's line or the admin token never appears in a message, a log or a page.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import json
import math
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .error_replies import SimError, error_body
from .liveview import LiveStats, render_page, render_panel
from .protocol import Call, Reply

if TYPE_CHECKING:
    from .server import Simulator

__all__ = [
    "ADMIN_TOKEN_ENV",
    "MAX_LATENCY_MS",
    "MIN_ADMIN_TOKEN_CHARS",
    "SETTINGS",
    "ClassKeys",
    "Classroom",
    "ClassroomError",
    "add_arguments",
    "apply_settings",
    "attach",
    "current_settings",
    "format_settings",
    "from_args",
    "host_addresses",
    "host_warning",
    "is_loopback",
    "learner_urls",
    "load_admin_token",
    "load_state",
    "make_keys",
    "new_key",
    "parse_keys",
    "parse_public_url",
    "parse_settings",
    "save_state",
    "state_path_for",
    "write_private",
]

ADMIN_TOKEN_ENV = "COURSE_SIM_ADMIN_TOKEN"
MIN_ADMIN_TOKEN_CHARS = 16
MAX_KEY_CHARS = 200
MAX_LATENCY_MS = 30_000
MAX_RPM = 1_000_000
MAX_TPM = 1_000_000_000
SETTINGS = ("rpm", "tpm", "fail_rate", "latency_ms")
MAX_ROWS = 60  # learners drawn on the page (30 fit a 1280x720 screen); /live.json has them all


class ClassroomError(ValueError):
    """A bad class-server setting; the message says which one and how to fix it."""


# --- keys -------------------------------------------------------------------------------------


def _check_key_text(text: str, what: str) -> None:
    """A key (or prefix) must be printable ASCII without spaces: it travels in an HTTP header."""
    if not text.isascii() or not text.isprintable() or any(c.isspace() for c in text):
        raise ClassroomError(f"{what} must be printable ASCII without spaces")
    if len(text) > MAX_KEY_CHARS:
        raise ClassroomError(f"{what} is longer than {MAX_KEY_CHARS} characters")


def parse_keys(text: str, source: str = "keys file") -> dict[str, str | None]:
    """``{key: name or None}`` from a keys file's text.

    One key a line, optionally followed by whitespace and a name (the rest of the line, shown on
    the live view instead of the masked key). Blank lines and lines starting with ``#`` are
    skipped. A repeated key or name is an error naming both lines (never the key itself).
    """
    keys: dict[str, str | None] = {}
    key_line: dict[str, int] = {}
    name_line: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, rest = line.partition(" ") if " " in line else line.partition("\t")
        key, name = key.strip(), " ".join(rest.split()) or None
        _check_key_text(key, f"{source}, line {number}: the key")
        if key in key_line:
            raise ClassroomError(
                f"{source}, line {number} repeats the key of line {key_line[key]}: give each "
                "learner their own key (so each gets their own rate-limit bucket)"
            )
        if name is not None:
            if len(name) > 60:
                raise ClassroomError(f"{source}, line {number}: the name is over 60 characters")
            if name in name_line:
                raise ClassroomError(
                    f"{source}, line {number} repeats the name {name!r} of line "
                    f"{name_line[name]}: the live view needs one name per row"
                )
            name_line[name] = number
        key_line[key] = number
        keys[key] = name
    if not keys:
        raise ClassroomError(
            f"{source} holds no keys: write one key a line (optionally followed by a name), "
            "or make one with `python -m course_simulator make-keys 30 -o keys.txt`"
        )
    return keys


@dataclass(frozen=True)
class ClassKeys:
    """Which keys the class server accepts, and the label each one gets on the live view."""

    names: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    prefix: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.prefix is not None:
            if not self.prefix:
                raise ClassroomError("--key-prefix must not be empty (that would accept any key)")
            _check_key_text(self.prefix, "--key-prefix")
        if not self.names and not self.prefix:
            raise ClassroomError("a key rule needs a keys file, a prefix, or both")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], prefix: str | None = None) -> ClassKeys:
        """The keys of a keys file (see ``parse_keys``), plus ``prefix`` if given."""
        where = Path(path)
        try:
            text = where.read_text("utf-8")
        except FileNotFoundError:
            raise ClassroomError(
                f"keys file {str(where)!r} does not exist: make one with `python -m "
                "course_simulator make-keys 30 -o keys.txt`, or use --key-prefix"
            ) from None
        except (OSError, UnicodeDecodeError) as err:
            raise ClassroomError(f"cannot read keys file {str(where)!r}: {err}") from None
        return cls(parse_keys(text, f"keys file {where.name}"), prefix, where.name)

    def accepts(self, key: str) -> bool:
        """True for a listed key, or one that starts with the prefix (and has more after it)."""
        if key in self.names:
            return True
        return (
            bool(self.prefix)
            and len(key) > len(self.prefix or "")
            and key.startswith(self.prefix or "")
        )

    def check(self, key: str) -> bool:
        """``accepts``, or the 401 that tells a learner which part of their key is mistyped.

        The server calls it as its key rule (``Simulator.accept_key``). The message never holds
        a key, typed or listed: it names the group that differs (only when every other group
        matches one listed key of three groups or more, so a guess learns nothing about a key
        it does not already nearly hold), a key in the wrong case, or the wrong number of groups.
        """
        if self.accepts(key):
            return True
        raise SimError(
            401, self._typo_hint(key), "invalid_request_error", code="invalid_api_key",
            outcome="auth",
        )  # fmt: skip

    def _typo_hint(self, key: str) -> str:
        start = "Incorrect API key provided: this class server has no such key. "
        end = " Check OPENAI_API_KEY against your slip, set it again, and restart JupyterLab."
        if key.lower() != key and self.accepts(key.lower()):
            return start + "Your key has capital letters; the keys here are all lower case." + end
        near = self._near(key)
        if near is not None:
            _, group, groups = near
            return (
                start + f"The {_ordinal(group)} of its {groups} groups (separated by "
                f"'{KEY_GROUP_SEPARATOR}') is mistyped; the other groups match." + end
            )
        sizes = {len(k.split(KEY_GROUP_SEPARATOR)) for k in self.names}
        typed = len(key.split(KEY_GROUP_SEPARATOR))
        if len(sizes) == 1 and typed not in sizes:
            (size,) = sizes
            return (
                start + f"Your key has {typed} group(s) separated by '{KEY_GROUP_SEPARATOR}'; "
                f"the keys here have {size}." + end
            )
        return start + "Check every group." + end

    def _near(self, key: str) -> tuple[str, int, int] | None:
        """(listed key, 1-based group, groups) when ``key`` differs from exactly one listed key
        of 3+ groups in exactly one group; None otherwise."""
        typed = key.split(KEY_GROUP_SEPARATOR)
        if len(typed) < 3:
            return None
        found = None
        for listed in self.names:
            groups = listed.split(KEY_GROUP_SEPARATOR)
            if len(groups) != len(typed):
                continue
            differ = [i for i, (a, b) in enumerate(zip(groups, typed, strict=True)) if a != b]
            if len(differ) == 1:
                if found is not None:
                    return None  # two keys are one group away: naming a group would mislead
                found = (listed, differ[0] + 1, len(groups))
        return found

    def owner(self, key: str | None) -> str | None:
        """The listed key a request belongs to: the key itself, or the listed key it is one
        mistyped group away from (so the live view shows *that* learner's setup error)."""
        if not key:
            return None
        if key in self.names:
            return key
        if key.lower() in self.names:
            return key.lower()
        near = self._near(key)
        return near[0] if near is not None else None

    def describe(self) -> str:
        """One line for the start-up banner (no key in it)."""
        parts = []
        if self.names:
            parts.append(f"{len(self.names)} keys from {self.source or 'a keys file'}")
        if self.prefix:
            parts.append(f"any key starting with {self.prefix!r}")
        return "accepted keys: " + " and ".join(parts)


# Keys are read off a slip and typed, often blind: no character that looks like another (no
# l/1/i, no o/0), lower case only, in short groups. A group is a syllable pair or four digits.
CONSONANTS = "bdfghjkmnprstvwz"
VOWELS = "aeu"
DIGITS = "23456789"
KEY_GROUP_SEPARATOR = "-"


def _word() -> str:
    pick = secrets.choice
    return pick(CONSONANTS) + pick(VOWELS) + pick(CONSONANTS) + pick(VOWELS)


def new_key(prefix: str = "") -> str:
    """One fresh key such as ``bafu-4827-seda`` (about 34 bits: plenty for a room's simulator)."""
    digits = "".join(secrets.choice(DIGITS) for _ in range(4))
    return f"{prefix}{_word()}-{digits}-{_word()}"


def make_keys(
    count: int, prefix: str = "", *, name: str = "learner-{n:02d}"
) -> list[tuple[str, str]]:
    """``count`` fresh keys (``new_key``), each with a placeholder name to edit (``learner-01``)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ClassroomError(f"the number of keys must be from 1 to 1000, got {count!r}")
    if prefix:
        _check_key_text(prefix, "the key prefix")
    keys: list[str] = []
    while len(keys) < count:
        key = new_key(prefix)
        if key not in keys:
            keys.append(key)
    return [(key, name.format(n=n)) for n, key in enumerate(keys, start=1)]


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


# --- runtime settings -------------------------------------------------------------------------


def current_settings(sim: Simulator) -> dict[str, Any]:
    """What the room runs under now: limits per key (None: not enforced), chaos, latency."""
    return {
        "rpm": sim.limiter.rpm,
        "tpm": sim.limiter.tpm,
        "fail_rate": sim.faults.fail_rate,
        "latency_ms": sim.latency_ms,
    }


def _whole(name: str, value: object, most: int) -> int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not value.is_integer())
    ):
        raise ClassroomError(
            f"{name} must be a whole number from 1 to {most:,}, or null for no limit; got {value!r}"
        )
    if not 1 <= value <= most:
        raise ClassroomError(
            f"{name} must be from 1 to {most:,} (or null for no limit), got {value!r}"
        )
    return int(value)


def _real(name: str, value: object, low: float, high: float, rule: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ClassroomError(f"{name} must be {rule}, got {value!r}")
    if not low <= value <= high:
        raise ClassroomError(f"{name} must be {rule}, got {value!r}")
    return float(value)


def parse_settings(body: object) -> dict[str, Any]:
    """Validate a change: a JSON object with some of ``rpm``, ``tpm``, ``fail_rate``,
    ``latency_ms`` (``rpm``/``tpm`` null turns that limit off)."""
    if not isinstance(body, dict) or not body:
        raise ClassroomError(
            'send a JSON object with the settings to change, e.g. {"rpm": 30} or '
            '{"fail_rate": 0.1}; the fields are ' + ", ".join(SETTINGS)
        )
    unknown = sorted(set(body) - set(SETTINGS))
    if unknown:
        raise ClassroomError(
            f"unknown setting(s) {', '.join(map(repr, unknown))}: the settings that can change "
            f"while the server runs are {', '.join(SETTINGS)}"
        )
    changes: dict[str, Any] = {}
    if "rpm" in body:
        changes["rpm"] = _whole("rpm", body["rpm"], MAX_RPM)
    if "tpm" in body:
        changes["tpm"] = _whole("tpm", body["tpm"], MAX_TPM)
    if "fail_rate" in body:
        changes["fail_rate"] = _real(
            "fail_rate", body["fail_rate"], 0, 1, "a probability from 0 to 1 (0.1 = 10%)"
        )
    if "latency_ms" in body:
        changes["latency_ms"] = _real(
            "latency_ms", body["latency_ms"], 0, MAX_LATENCY_MS,
            f"a number of milliseconds from 0 to {MAX_LATENCY_MS:,}",
        )  # fmt: skip
    return changes


def apply_settings(sim: Simulator, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Apply validated ``changes``; a new rpm or tpm refills every key's buckets at the new size.

    Returns the settings now in force.
    """
    if "rpm" in changes or "tpm" in changes:
        sim.limiter.set_limits(
            changes.get("rpm", sim.limiter.rpm), changes.get("tpm", sim.limiter.tpm)
        )
    if "fail_rate" in changes:
        sim.faults.fail_rate = float(changes["fail_rate"])
    if "latency_ms" in changes:
        sim.latency_ms = float(changes["latency_ms"])
    return current_settings(sim)


# --- the admin settings survive a restart -----------------------------------------------------

STATE_SUFFIX = ".state.json"
LOST_ON_RESTART = (
    "the live view's history and the request log, the rate-limit buckets (every key starts "
    "full), and every uploaded file and batch (a learner's batch id now gets a 404)"
)


def state_path_for(keys_file: str | os.PathLike[str]) -> Path:
    """Where the admin settings are kept: beside the keys file (``class-keys.state.json``)."""
    where = Path(keys_file)
    return where.with_name(where.stem + STATE_SUFFIX)


def save_state(path: Path, settings: Mapping[str, Any]) -> None:
    """Write the settings in force (atomically: a crash mid-write leaves the old file whole)."""
    data = {
        "object": "class.state",
        "saved_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "settings": {name: settings[name] for name in SETTINGS},
    }
    partial = path.with_name(path.name + ".partial")
    write_private(partial, json.dumps(data, indent=2) + "\n")
    os.replace(partial, path)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)  # a file that existed keeps its mode through O_CREAT


def load_state(path: Path) -> tuple[dict[str, Any], str] | None:
    """(settings, when saved) from a state file; None when there is none.

    A file that cannot be read or holds bad values raises ``ClassroomError`` naming the file.
    """
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ClassroomError(f"cannot read the saved settings {path.name}: {err}") from None
    try:
        data = json.loads(text)
        settings = parse_settings(data["settings"])
        saved = str(data.get("saved_at", "at an unknown time"))
    except (ValueError, KeyError, TypeError) as err:
        raise ClassroomError(f"the saved settings {path.name} are not valid: {err}") from None
    return settings, saved


# --- the routes -------------------------------------------------------------------------------


def _json(status: int, body: dict[str, Any]) -> Reply:
    return Reply(status, body, {"Cache-Control": "no-store"}, outcome="admin")


def _html(text: str) -> Reply:
    return Reply(
        200, None, {"Cache-Control": "no-store"}, outcome="live_view", text=text,
        content_type="text/html; charset=utf-8",
    )  # fmt: skip


def _bearer(call: Call) -> str | None:
    scheme, _, token = (call.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


@dataclass
class Classroom:
    """A simulator run as the class server (made by ``attach``)."""

    sim: Simulator
    keys: ClassKeys | None
    stats: LiveStats | None
    _admin_token: str | None = field(default=None, repr=False)
    public_url: str | None = None
    state_path: Path | None = None  # where admin changes are saved (beside the keys file)
    start_report: list[str] = field(default_factory=list)  # restored / lost, for the banner
    _urls: list[str] | None = field(default=None, repr=False)

    @property
    def admin_enabled(self) -> bool:
        return self._admin_token is not None

    def settings(self) -> dict[str, Any]:
        return current_settings(self.sim)

    def learner_urls(self) -> list[str]:
        """What learners set ``OPENAI_BASE_URL`` to (worked out once, after the server binds)."""
        if self._urls is None:
            port = urlsplit(self.sim.base_url).port or 0
            self._urls = learner_urls(self.sim.host, port, public_url=self.public_url)
        return self._urls

    def restore(self) -> None:
        """Apply the settings saved beside the keys file, and say what was restored and lost."""
        if self.state_path is None:
            self.start_report = [
                "Admin changes are not saved (no --keys-file): a restart resets them."
            ]
            return
        name = self.state_path.name
        try:
            found = load_state(self.state_path)
        except ClassroomError as err:
            self.start_report = [
                f"NOT RESTORED: {err}. Starting from the command line's values; the next "
                f"admin change overwrites {name}."
            ]
            return
        if found is None:
            self.start_report = [
                f"Admin changes are saved to {name}, beside the keys file, and restored after "
                "a restart."
            ]
            return
        changes, saved = found
        now = apply_settings(self.sim, changes)
        self.start_report = [
            f"RESTORED from {name} (saved {saved}): {format_settings(now)}. These replace the "
            f"command line's limits and chaos; delete {name} to start from the command line's.",
            f"LOST in the restart: {LOST_ON_RESTART}.",
        ]

    def _authorise(self, call: Call) -> None:
        if self._admin_token is None:
            raise SimError(
                403,
                "The admin endpoint is off on this server. Start it with the admin token in "
                f"{ADMIN_TOKEN_ENV} (or --admin-token-file PATH) to change limits while it runs.",
                code="admin_disabled",
                outcome="admin",
            )
        token = _bearer(call)
        if token is None or not hmac.compare_digest(token.encode(), self._admin_token.encode()):
            raise SimError(
                401,
                "The admin endpoint needs the admin token (Authorization: Bearer TOKEN), not a "
                "learner's key. The admin CLI reads it from "
                f"{ADMIN_TOKEN_ENV} or --token-file.",
                code="invalid_admin_token",
                outcome="admin",
            )

    def get_limits(self, call: Call) -> Reply:
        self._authorise(call)
        return _json(200, {"object": "class.settings", **self.settings(), "changed": []})

    def post_limits(self, call: Call) -> Reply:
        self._authorise(call)
        try:
            body = json.loads(call.raw) if call.raw else None
        except ValueError:
            body = "not JSON"
        try:
            changes = parse_settings(body)
        except ClassroomError as err:
            return _json(400, error_body(str(err), "invalid_request_error", None, "invalid_value"))
        settings = apply_settings(self.sim, changes)
        reply = {"object": "class.settings", **settings, "changed": sorted(changes)}
        if self.state_path is not None:
            try:
                save_state(self.state_path, settings)
                reply["saved_to"] = self.state_path.name
            except OSError as err:
                reply["save_error"] = (
                    f"the change is in force but could not be saved to {self.state_path.name} "
                    f"({err.strerror or err}): a restart would lose it"
                )
        return _json(200, reply)

    def _snapshot(self, max_rows: int | None = MAX_ROWS) -> dict[str, Any]:
        assert self.stats is not None
        return self.stats.snapshot(max_rows=max_rows)

    def _page_args(self) -> dict[str, Any]:
        return {
            "settings": self.settings(),
            "base_urls": self.learner_urls(),
            "loopback_only": is_loopback(self.sim.host),
        }

    def live_page(self, call: Call) -> Reply:
        return _html(render_page(self._snapshot(), **self._page_args()))

    def live_panel(self, call: Call) -> Reply:
        return _html(render_panel(self._snapshot(), **self._page_args()))

    def live_json(self, call: Call) -> Reply:
        snapshot = self._snapshot(max_rows=None)
        return _json(200, {"object": "class.live", **snapshot, "settings": self.settings()})


def format_settings(settings: Mapping[str, Any]) -> str:
    """``rpm=30 tpm=off fail_rate=10% latency_ms=0``, for the terminal (banner and admin CLI)."""
    rpm, tpm = settings.get("rpm"), settings.get("tpm")
    return (
        f"rpm={rpm if rpm is not None else 'off'} tpm={tpm if tpm is not None else 'off'} "
        f"fail_rate={float(settings.get('fail_rate') or 0):.0%} "
        f"latency_ms={float(settings.get('latency_ms') or 0):g}"
    )


def _check_admin_token(token: str, keys: ClassKeys | None) -> None:
    if len(token) < MIN_ADMIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise ClassroomError(
            f"the admin token must be at least {MIN_ADMIN_TOKEN_CHARS} characters without "
            'spaces, e.g. from `python -c "import secrets; print(secrets.token_urlsafe(24))"`'
        )
    if keys is not None and keys.accepts(token):
        raise ClassroomError(
            "the admin token is also accepted as a learner's key (it is in the keys file or "
            "starts with --key-prefix): pick one no learner could be given"
        )


def attach(
    sim: Simulator,
    *,
    keys: ClassKeys | None = None,
    admin_token: str | None = None,
    live_view: bool = True,
    public_url: str | None = None,
    state_path: Path | None = None,
    window_s: float = 300.0,
    bin_s: float = 10.0,
) -> Classroom:
    """Make ``sim`` the class server (before or after ``start()``); see the module docstring.

    ``state_path``: where admin changes are saved; what it holds is applied now (``restore``).
    """
    if ("GET", "/admin/limits") in sim.side_routes:
        raise ClassroomError("this simulator is a class server already: attach() it only once")
    if admin_token is not None:
        _check_admin_token(admin_token, keys)
    if public_url is not None:
        public_url = parse_public_url(public_url)
        host = urlsplit(public_url).hostname or ""
        if is_loopback(host) and not is_loopback(sim.host):
            raise ClassroomError(
                f"--public-url {public_url} is a loopback address: on a learner's laptop it "
                "is the laptop itself. Give the address learners reach this machine at."
            )
    stats = None
    if live_view:
        stats = LiveStats(
            window_s=window_s, bin_s=bin_s, clock=sim.clock,
            roster=list(keys.names.items()) if keys is not None else (),
            owner=keys.owner if keys is not None else None,
            accepts=keys.accepts if keys is not None else None,
        )  # fmt: skip
    room = Classroom(sim, keys, stats, admin_token, public_url, state_path)
    room.restore()
    if keys is not None:
        sim.accept_key = keys.check
    sim.side_routes[("GET", "/admin/limits")] = room.get_limits
    sim.side_routes[("POST", "/admin/limits")] = room.post_limits
    if stats is not None:
        sim.observers.append(stats.observe)
        sim.side_routes[("GET", "/live")] = room.live_page
        sim.side_routes[("GET", "/live/panel")] = room.live_panel
        sim.side_routes[("GET", "/live.json")] = room.live_json
    return room


# --- binding beyond loopback: the address learners use ------------------------------------------

EVERY_INTERFACE = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _reachable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast)


def host_addresses() -> list[str]:
    """This machine's IPv4 addresses that others may reach: the one on its default route first
    (found without sending a packet), then those its host name resolves to."""
    found: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            found.append(str(probe.getsockname()[0]))
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    found += [str(info[4][0]) for info in infos]
    return list(dict.fromkeys(a for a in found if _reachable(a)))


def parse_public_url(text: str) -> str:
    """``--public-url``: the address learners use, as ``http(s)://HOST[:PORT]``, ``/v1`` added."""
    parts = urlsplit(text.strip())
    path = parts.path.rstrip("/")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or path not in ("", "/v1")
        or parts.query
        or parts.fragment
        or any(c in text for c in "<>\"' ")
    ):
        raise ClassroomError(
            f"--public-url must look like http://HOST:PORT (the address learners reach this "
            f"server at, e.g. http://192.168.1.20:8000), got {text!r}"
        )
    return f"{parts.scheme}://{parts.netloc}/v1"


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/v1" if ":" in host else f"http://{host}:{port}/v1"


def learner_urls(
    host: str,
    port: int,
    *,
    public_url: str | None = None,
    addresses: Callable[[], list[str]] | None = None,
) -> list[str]:
    """The ``OPENAI_BASE_URL`` values learners can use, best first; empty when none is known.

    Never loopback for a server bound elsewhere: a learner's 127.0.0.1 is their own laptop.
    """
    if public_url:
        return [public_url]
    if is_loopback(host):
        return [_url(host, port)]
    if host in EVERY_INTERFACE:
        return [_url(a, port) for a in (addresses or host_addresses)()]
    return [_url(host, port)]


UNKNOWN_ADDRESS_HINT = (
    "`hostname -I` shows this machine's addresses; or restart the server with --public-url"
)


def host_warning(
    host: str, port: int, *, key_rule: bool, admin: bool, urls: list[str] | None = None
) -> str | None:
    """The loud stderr warning for a server that others can reach; None on loopback."""
    if is_loopback(host):
        return None
    if urls is None:
        urls = learner_urls(host, port)
    lines = [
        f"WARNING: listening on {host or 'every interface'}:{port}, not loopback: anyone who "
        "can reach this machine on that port can use this server and see its live view.",
        "WARNING: run it only on the room's own network, and stop it (Ctrl+C) after class.",
    ]
    if urls:
        lines.append(f"Learners set OPENAI_BASE_URL={urls[0]}")
        lines += [f"   (or OPENAI_BASE_URL={url})" for url in urls[1:]]
    else:
        lines.append(
            f"Learners set OPENAI_BASE_URL=http://<this machine's address>:{port}/v1 "
            f"({UNKNOWN_ADDRESS_HINT})"
        )
    if not key_rule:
        lines.append(
            "WARNING: no key rule: ANY key is accepted and learners can share a bucket by "
            "accident. Give each learner a key with --keys-file or --key-prefix."
        )
    if not admin:
        lines.append(
            f"Note: the admin endpoint is off (no {ADMIN_TOKEN_ENV}): limits cannot change "
            "while this server runs."
        )
    width = max(len(line) for line in lines)
    bar = "!" * min(width, 100)
    return "\n".join([bar, *lines, bar])


# --- the CLI's flags ----------------------------------------------------------------------------


def load_admin_token(path: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """The admin token from ``path`` (its first line) if given, else ``COURSE_SIM_ADMIN_TOKEN``."""
    if path:
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ClassroomError(f"cannot read the admin token file {path!r}: {err}") from None
        token = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        if not token:
            raise ClassroomError(f"the admin token file {path!r} is empty")
        return token
    token = environ.get(ADMIN_TOKEN_ENV, "").strip()
    return token or None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The class-server flags of ``python -m course_simulator``."""
    group = parser.add_argument_group(
        "class server", "one simulator for a room (see INSTRUCTOR.md)"
    )
    group.add_argument(
        "--keys-file", metavar="PATH",
        help="accept these keys, one a line with an optional name after it (make-keys makes one)",
    )  # fmt: skip
    group.add_argument(
        "--key-prefix", metavar="PREFIX",
        help="accept any key that starts with PREFIX, e.g. class- (each key its own bucket)",
    )  # fmt: skip
    group.add_argument(
        "--admin-token-file", metavar="PATH",
        help=f"file holding the admin token (else ${ADMIN_TOKEN_ENV}); turns on /admin/limits",
    )  # fmt: skip
    group.add_argument(
        "--public-url", metavar="URL",
        help="the address learners reach this server at, e.g. http://192.168.1.20:8000 (shown "
        "on the live view; default: this machine's own addresses)",
    )  # fmt: skip
    group.add_argument(
        "--no-live-view", action="store_true", help="do not serve the live view at /live"
    )


def from_args(
    sim: Simulator, args: argparse.Namespace, environ: Mapping[str, str] = os.environ
) -> Classroom:
    """``attach`` as the CLI's flags ask (raises ``ClassroomError`` for a bad setting)."""
    keys = None
    state = None
    if args.keys_file:
        keys = ClassKeys.from_file(args.keys_file, args.key_prefix)
        state = state_path_for(args.keys_file)
    elif args.key_prefix is not None:
        keys = ClassKeys(prefix=args.key_prefix)
    token = load_admin_token(args.admin_token_file, environ)
    return attach(
        sim, keys=keys, admin_token=token, live_view=not args.no_live_view,
        public_url=args.public_url, state_path=state,
    )  # fmt: skip


def banner_lines(room: Classroom) -> list[str]:
    """What the CLI prints after its first line (no key, no token)."""
    base = room.sim.base_url.removesuffix("/v1")
    host = urlsplit(base).hostname or ""
    if host in EVERY_INTERFACE:  # bound to every interface: this machine reaches it on loopback
        base = f"http://127.0.0.1:{urlsplit(base).port}"
    lines = []
    if room.keys is not None:
        lines.append(room.keys.describe() + ", a rate-limit bucket each.")
    urls = room.learner_urls()
    if urls:
        lines.append("Learners: OPENAI_BASE_URL=" + " or ".join(urls))
    if room.stats is not None:
        lines.append(f"Live view (to project): {base}/live")
    if room.admin_enabled:
        lines.append(
            f"Admin: python -m course_simulator admin --url {base} set --rpm N "
            "(reads the token from " + ADMIN_TOKEN_ENV + ")"
        )
    return lines + room.start_report
