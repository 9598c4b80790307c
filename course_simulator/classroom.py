"""The class server: one simulator for the whole room, a key per learner, limits changed live.

``attach(sim, keys=, admin_token=)`` turns a ``Simulator`` into the class server:

- **Keys** (``class_keys``). ``ClassKeys`` accepts the keys of a keys file (one key a line,
  an optional name after it) and/or any key that starts with a prefix (``--key-prefix class-``).
  Every key gets its own RPM/TPM buckets (the limiter is per key already), so each learner meets
  their own 429s. ``make_keys`` writes keys a learner can type from a slip (``bafu-4827-seda``:
  no look-alike characters, short groups), and a mistyped key's 401 says which group is wrong.
- **Admin.** ``GET /admin/limits`` shows, ``POST /admin/limits`` changes ``rpm``, ``tpm``,
  ``fail_rate`` and ``latency_ms`` while the server runs (``python -m course_simulator
  admin ... set --rpm 30`` calls it). It needs the admin token (``Authorization: Bearer``), read
  from ``COURSE_SIM_ADMIN_TOKEN`` or ``--admin-token-file``; with no token the endpoint answers
  403 saying how to turn it on. Bad values get a 400 naming the field and the rule. Each change
  is saved beside the keys file (``class-keys.state.json``) and restored by the next start,
  which says what it restored and what a restart loses.
- **Address** (``class_address``). The live view and the banner tell learners an
  ``OPENAI_BASE_URL`` they can reach: ``--public-url``, else this machine's addresses when bound
  to every interface; never loopback for a server bound elsewhere (``learner_urls``).
- **Live view.** ``GET /live`` (the page to project), ``/live/panel`` (what it redraws) and
  ``/live.json`` (the same data), counted by ``liveview`` and drawn by ``liveview_page``. They
  need no token, on purpose: the page is made to be projected, and a token in its address would
  be on the screen for the room to copy; what it shows is already the room's to see (counts,
  names from the keys file or masked keys, the limits), never a full key or a prompt.
  ``attach(live_view=False)`` (CLI: ``--no-live-view``) turns it off.

A key, a keys file's line or the admin token never appears in a message, a log or a page.
"""

from __future__ import annotations

import argparse
import hmac
import json
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .class_address import EVERY_INTERFACE, is_loopback, learner_urls, parse_public_url
from .class_keys import ClassKeys, ClassroomError
from .error_replies import SimError, error_body
from .liveview import LiveStats
from .liveview_page import render_page, render_panel
from .protocol import Call, Reply

if TYPE_CHECKING:
    from .server import Simulator

__all__ = [
    "ADMIN_TOKEN_ENV",
    "MAX_LATENCY_MS",
    "MIN_ADMIN_TOKEN_CHARS",
    "SETTINGS",
    "Classroom",
    "add_arguments",
    "apply_settings",
    "attach",
    "current_settings",
    "format_settings",
    "from_args",
    "host_warning",
    "load_admin_token",
    "load_state",
    "parse_settings",
    "save_state",
    "state_path_for",
    "write_private",
]

ADMIN_TOKEN_ENV = "COURSE_SIM_ADMIN_TOKEN"
MIN_ADMIN_TOKEN_CHARS = 16
MAX_LATENCY_MS = 30_000
MAX_RPM = 1_000_000
MAX_TPM = 1_000_000_000
SETTINGS = ("rpm", "tpm", "fail_rate", "latency_ms")
MAX_ROWS = 60  # learners drawn on the page (30 fit a 1280x720 screen); /live.json has them all


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


# --- the warning for a server others can reach ----------------------------------------------------

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
