"""The class server: one simulator for the whole room, a key per learner, limits changed live.

``attach(sim, keys=, admin_token=)`` turns a ``Simulator`` into the class server:

- **Keys.** ``ClassKeys`` accepts the keys of a keys file (one key a line, an optional name after
  it) and/or any key that starts with a prefix (``--key-prefix class-``). Every key gets its own
  RPM/TPM buckets (the limiter is per key already), so each learner meets their own 429s.
- **Admin.** ``GET /admin/limits`` shows, ``POST /admin/limits`` changes ``rpm``, ``tpm``,
  ``fail_rate`` and ``latency_ms`` while the server runs (``python -m course_simulator
  admin ... set --rpm 30`` calls it). It needs the admin token (``Authorization: Bearer``), read
  from ``COURSE_SIM_ADMIN_TOKEN`` or ``--admin-token-file``; with no token the endpoint answers
  403 saying how to turn it on. Bad values get a 400 naming the field and the rule.
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .error_replies import SimError, error_body, mask_key
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
    "from_args",
    "host_warning",
    "is_loopback",
    "load_admin_token",
    "make_keys",
    "parse_keys",
    "parse_settings",
]

ADMIN_TOKEN_ENV = "COURSE_SIM_ADMIN_TOKEN"
MIN_ADMIN_TOKEN_CHARS = 16
MAX_KEY_CHARS = 200
MAX_LATENCY_MS = 30_000
MAX_RPM = 1_000_000
MAX_TPM = 1_000_000_000
SETTINGS = ("rpm", "tpm", "fail_rate", "latency_ms")
MAX_ROWS = 40  # the page shows the busiest 40 keys; /live.json says how many it left out


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

    def label(self, key: str | None) -> str:
        """The live view's name for a key: its name in the keys file, else the key masked."""
        if not key:
            return "(no key sent)"
        name = self.names.get(key)
        return name if name else mask_key(key)

    def describe(self) -> str:
        """One line for the start-up banner (no key in it)."""
        parts = []
        if self.names:
            parts.append(f"{len(self.names)} keys from {self.source or 'a keys file'}")
        if self.prefix:
            parts.append(f"any key starting with {self.prefix!r}")
        return "accepted keys: " + " and ".join(parts)


def make_keys(
    count: int, prefix: str = "class-", *, name: str = "learner-{n:02d}"
) -> list[tuple[str, str]]:
    """``count`` fresh random keys, each with a placeholder name to edit (``learner-01`` ...)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ClassroomError(f"the number of keys must be from 1 to 1000, got {count!r}")
    if prefix:
        _check_key_text(prefix, "the key prefix")
    return [(f"{prefix}{secrets.token_urlsafe(9)}", name.format(n=n)) for n in range(1, count + 1)]


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


def _base_url(call: Call) -> str | None:
    """The address learners use, as the browser reached this server (the Host header)."""
    host = call.headers.get("Host")
    if not host or any(c in host for c in "<>\"' "):
        return None
    return f"http://{host}/v1"


@dataclass
class Classroom:
    """A simulator run as the class server (made by ``attach``)."""

    sim: Simulator
    keys: ClassKeys | None
    stats: LiveStats | None
    _admin_token: str | None = field(default=None, repr=False)

    @property
    def admin_enabled(self) -> bool:
        return self._admin_token is not None

    def settings(self) -> dict[str, Any]:
        return current_settings(self.sim)

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
        return _json(200, {"object": "class.settings", **settings, "changed": sorted(changes)})

    def _snapshot(self) -> dict[str, Any]:
        assert self.stats is not None
        return self.stats.snapshot(max_rows=MAX_ROWS)

    def live_page(self, call: Call) -> Reply:
        return _html(
            render_page(self._snapshot(), settings=self.settings(), base_url=_base_url(call))
        )

    def live_panel(self, call: Call) -> Reply:
        return _html(
            render_panel(self._snapshot(), settings=self.settings(), base_url=_base_url(call))
        )

    def live_json(self, call: Call) -> Reply:
        return _json(200, {"object": "class.live", **self._snapshot(), "settings": self.settings()})


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
    window_s: float = 300.0,
    bin_s: float = 10.0,
) -> Classroom:
    """Make ``sim`` the class server (before or after ``start()``); see the module docstring."""
    if ("GET", "/admin/limits") in sim.side_routes:
        raise ClassroomError("this simulator is a class server already: attach() it only once")
    if admin_token is not None:
        _check_admin_token(admin_token, keys)
    stats = None
    if live_view:
        label = keys.label if keys is not None else None
        stats = LiveStats(window_s=window_s, bin_s=bin_s, clock=sim.clock, label=label)
    room = Classroom(sim, keys, stats, admin_token)
    if keys is not None:
        sim.accept_key = keys.accepts
    sim.side_routes[("GET", "/admin/limits")] = room.get_limits
    sim.side_routes[("POST", "/admin/limits")] = room.post_limits
    if stats is not None:
        sim.observers.append(stats.observe)
        sim.side_routes[("GET", "/live")] = room.live_page
        sim.side_routes[("GET", "/live/panel")] = room.live_panel
        sim.side_routes[("GET", "/live.json")] = room.live_json
    return room


# --- binding beyond loopback ------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _lan_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def host_warning(host: str, port: int, *, key_rule: bool, admin: bool) -> str | None:
    """The loud stderr warning for a server that others can reach; None on loopback."""
    if is_loopback(host):
        return None
    where = _lan_address() if host in ("0.0.0.0", "::", "") else host
    lines = [
        f"WARNING: listening on {host or 'every interface'}:{port}, not loopback: anyone who "
        "can reach this machine on that port can use this server and see its live view.",
        "WARNING: run it only on the room's own network, and stop it (Ctrl+C) after class.",
    ]
    if where:
        lines.append(f"Learners set OPENAI_BASE_URL=http://{where}:{port}/v1")
    else:
        lines.append(
            f"Learners set OPENAI_BASE_URL=http://<this machine's address>:{port}/v1 "
            "(`hostname -I` shows it)"
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
        "--no-live-view", action="store_true", help="do not serve the live view at /live"
    )


def from_args(
    sim: Simulator, args: argparse.Namespace, environ: Mapping[str, str] = os.environ
) -> Classroom:
    """``attach`` as the CLI's flags ask (raises ``ClassroomError`` for a bad setting)."""
    keys = None
    if args.keys_file:
        keys = ClassKeys.from_file(args.keys_file, args.key_prefix)
    elif args.key_prefix is not None:
        keys = ClassKeys(prefix=args.key_prefix)
    token = load_admin_token(args.admin_token_file, environ)
    return attach(sim, keys=keys, admin_token=token, live_view=not args.no_live_view)


def banner_lines(room: Classroom) -> list[str]:
    """What the CLI prints after its first line (no key, no token)."""
    base = room.sim.base_url.removesuffix("/v1")
    host = urlsplit(base).hostname or ""
    if host in ("0.0.0.0", "::"):  # bound to every interface: this machine reaches it on loopback
        base = f"http://127.0.0.1:{urlsplit(base).port}"
    lines = []
    if room.keys is not None:
        lines.append(room.keys.describe() + ", a rate-limit bucket each.")
    if room.stats is not None:
        lines.append(f"Live view (to project): {base}/live")
    if room.admin_enabled:
        lines.append(
            f"Admin: python -m course_simulator admin --url {base} set --rpm N "
            "(reads the token from " + ADMIN_TOKEN_ENV + ")"
        )
    return lines
