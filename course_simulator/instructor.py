"""The instructor's commands beside the server: ``admin`` (change a running class server) and
``make-keys`` (write a keys file to hand out).

``python -m course_simulator admin --url http://HOST:PORT show``
``python -m course_simulator admin --url http://HOST:PORT set --rpm 30 --fail-rate 0.1``
``python -m course_simulator make-keys 30 -o class-keys.txt``

``admin`` reads the admin token from ``COURSE_SIM_ADMIN_TOKEN`` or ``--token-file`` and talks to
``/admin/limits`` with the standard library (the SDK is for the API, not for this). Exit status:
0 done, 1 the server refused or could not be reached (its message is printed), 2 bad usage.
No key and no token is ever printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .class_keys import ClassroomError, make_keys
from .classroom import (
    ADMIN_TOKEN_ENV,
    MAX_LATENCY_MS,
    format_settings,
    load_admin_token,
    parse_settings,
    write_private,
)

__all__ = ["COMMANDS", "AdminFailed", "admin_request", "format_settings", "main"]

COMMANDS = ("admin", "make-keys")
TIMEOUT_S = 10.0


class AdminFailed(ClassroomError):
    """The class server refused the change, or could not be reached (exit status 1)."""


def _limit(text: str) -> int | None:
    """``--rpm 30`` or ``--rpm off`` (no limit)."""
    if text.lower() in ("off", "none", "null"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number (or 'off' for no limit)"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (or 'off' for no limit), got {text}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m course_simulator",
        description="The instructor's commands for the class server (see INSTRUCTOR.md).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    admin = sub.add_parser("admin", help="show or change a running class server's settings")
    admin.add_argument(
        "--url", required=True, help="the class server, e.g. http://192.168.1.20:8000"
    )
    admin.add_argument(
        "--token-file", help=f"file holding the admin token (else ${ADMIN_TOKEN_ENV})"
    )
    actions = admin.add_subparsers(dest="action", required=True)
    actions.add_parser("show", help="print the limits and chaos now in force")
    change = actions.add_parser("set", help="change limits and chaos (others stay as they are)")
    change.add_argument("--rpm", type=_limit, default=..., help="requests/min per key, or off")
    change.add_argument("--tpm", type=_limit, default=..., help="tokens/min per key, or off")
    change.add_argument("--fail-rate", type=_number, default=..., help="0-1: share of faults")
    change.add_argument(
        "--latency-ms", type=_number, default=..., help=f"added latency, 0-{MAX_LATENCY_MS}"
    )
    keys = sub.add_parser("make-keys", help="write a keys file with fresh random keys")
    keys.add_argument("count", type=int, help="how many learners")
    keys.add_argument("-o", "--output", required=True, help="the keys file to write")
    keys.add_argument(
        "--prefix", default="", help="text before every key, e.g. class- (default: none)"
    )
    keys.add_argument("--force", action="store_true", help="overwrite an existing file")
    return p


def _admin_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClassroomError(
            f"--url must look like http://HOST:PORT (the address the server printed), got {url!r}"
        )
    path = parts.path.rstrip("/").removesuffix("/v1")
    return f"{parts.scheme}://{parts.netloc}{path}/admin/limits"


def admin_request(
    url: str,
    token: str,
    changes: Mapping[str, Any] | None = None,
    *,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> dict[str, Any]:
    """GET (``changes`` None) or POST ``/admin/limits``; the settings now in force.

    Raises ``ClassroomError`` with the server's own message when it refuses.
    """
    target = _admin_url(url)
    data = None if changes is None else json.dumps(dict(changes)).encode()
    request = urllib.request.Request(
        target,
        data=data,
        method="GET" if data is None else "POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with opener(request, timeout=TIMEOUT_S) as reply:
            return dict(json.load(reply))
    except urllib.error.HTTPError as err:
        try:
            message = json.load(err)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {err.code} {err.reason}"
        raise AdminFailed(f"the server refused ({err.code}): {message}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise AdminFailed(
            f"cannot reach {target} ({reason}): is the class server running, and is this the "
            "address it printed?"
        ) from None


def _write_keys(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.exists() and not args.force:
        raise ClassroomError(f"{str(out)!r} exists already: pick another name or add --force")
    pairs = make_keys(args.count, args.prefix)
    text = "# Class server keys: one key a line, then a name for the live view (edit freely).\n"
    text += "".join(f"{key}  {name}\n" for key, name in pairs)
    write_private(out, text)
    print(
        f"Wrote {len(pairs)} keys to {out} (each with a placeholder name to edit). Start the "
        f"server with --keys-file {out}, and hand each learner one line's key."
    )
    return 0


def _admin(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    token = load_admin_token(args.token_file, environ)
    if token is None:
        raise ClassroomError(
            f"no admin token: set {ADMIN_TOKEN_ENV} (the value the server was started with) "
            "or pass --token-file PATH"
        )
    if args.action == "show":
        settings = admin_request(args.url, token)
        print(format_settings(settings))
        return 0
    given = {
        name: getattr(args, name)
        for name in ("rpm", "tpm", "fail_rate", "latency_ms")
        if getattr(args, name) is not ...
    }
    if not given:
        raise ClassroomError(
            "nothing to change: give --rpm, --tpm, --fail-rate or --latency-ms (e.g. --rpm 30)"
        )
    changes = parse_settings(given)  # the same rules the server applies, checked before sending
    settings = admin_request(args.url, token, changes)
    note = ""
    if "rpm" in changes or "tpm" in changes:
        note = " (every key's buckets start full at the new limits)"
    print(f"Now: {format_settings(settings)}{note}")
    if settings.get("saved_to"):
        print(f"Saved to {settings['saved_to']} beside the keys file: a restart restores it.")
    if settings.get("save_error"):
        print(f"warning: {settings['save_error']}", file=sys.stderr)
    return 0


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run one instructor command; errors are one line on stderr, never a traceback."""
    args = build_parser().parse_args(list(argv))
    try:
        if args.command == "make-keys":
            return _write_keys(args)
        return _admin(args, os.environ if environ is None else environ)
    except ClassroomError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1 if isinstance(err, AdminFailed) else 2
