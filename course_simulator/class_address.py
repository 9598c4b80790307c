"""The address learners use: is the server reachable beyond this machine, and at which URL.

A learner's ``127.0.0.1`` is their own laptop, so a class server bound to every interface
tells them this machine's network addresses (``host_addresses``), or the ``--public-url`` the
instructor gives; never a loopback address for a server bound elsewhere (``learner_urls``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from .class_keys import ClassroomError

__all__ = ["EVERY_INTERFACE", "host_addresses", "is_loopback", "learner_urls", "parse_public_url"]

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
