"""``make_client``: the one place the course builds an SDK client, sync or async.

Notebooks (``get_client``), the runner, the batch path, the checks and the simulator all get
their ``openai.OpenAI`` / ``openai.AsyncOpenAI`` here, so what a client talks through is decided
once: an optional innermost ``transport`` (an in-process simulator, say), wrapped by a ``guard``
when one is given (the live spend guard, ``spend.SpendGuard``). Both go in through the SDK's
public ``http_client`` argument; nothing inside the SDK or its HTTP client is patched.

A client built by hand (``openai.OpenAI()``) has no guard: the spend cap covers the clients
built here.

The factory knows nothing about money (a guard is anything that wraps a transport), so it sits
on the foundation: the simulator's ``client()`` calls it without importing the live code.
Choosing between simulator and live API is ``client.get_client``'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request
import weakref
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload
from urllib.parse import urlsplit

import httpx2
import openai
from openai import _constants as _sdk

from . import config

if TYPE_CHECKING:
    import ssl

__all__ = ["TransportGuard", "guard_of", "make_client", "shared_ssl_context"]

Client = openai.OpenAI | openai.AsyncOpenAI


class TransportGuard(Protocol):
    """What ``make_client`` needs of a guard: a transport that asks it first, around ``inner``."""

    def wrap(self, inner: Any, *, asynchronous: bool) -> Any: ...


@dataclass(frozen=True)
class _Made:
    """How a client was built, so ``like=`` can build its twin the same way."""

    guard: TransportGuard | None
    transport: Any


_made: weakref.WeakKeyDictionary[Any, _Made] = weakref.WeakKeyDictionary()


@overload
def make_client(
    *,
    asynchronous: Literal[False] = False,
    base_url: str | None = None,
    api_key: str | None = None,
    transport: Any = None,
    guard: TransportGuard | None = None,
    like: Client | None = None,
    **sdk_options: Any,
) -> openai.OpenAI: ...


@overload
def make_client(
    *,
    asynchronous: Literal[True],
    base_url: str | None = None,
    api_key: str | None = None,
    transport: Any = None,
    guard: TransportGuard | None = None,
    like: Client | None = None,
    **sdk_options: Any,
) -> openai.AsyncOpenAI: ...


@overload
def make_client(
    *,
    asynchronous: bool,
    base_url: str | None = None,
    api_key: str | None = None,
    transport: Any = None,
    guard: TransportGuard | None = None,
    like: Client | None = None,
    **sdk_options: Any,
) -> Client: ...


def make_client(
    *,
    asynchronous: bool = False,
    base_url: str | None = None,
    api_key: str | None = None,
    transport: Any = None,
    guard: TransportGuard | None = None,
    like: Client | None = None,
    **sdk_options: Any,
) -> Client:
    """An ``openai.OpenAI`` (``asynchronous=True``: ``openai.AsyncOpenAI``).

    ``base_url`` / ``api_key``: as the SDK's (None: the SDK reads ``OPENAI_BASE_URL`` /
    ``OPENAI_API_KEY``). ``transport``: an httpx2 transport to send through instead of the
    network (one that serves both kinds, if ``like=`` is to turn the client into the other
    kind). ``guard``: what every request passes first (the live spend guard). ``like``: a client
    made here whose base URL, key, transport and guard the new one copies (the runner turns a
    learner's sync client into an async one this way). ``sdk_options`` go to the SDK
    (``max_retries``, ``timeout``, ...).
    """
    if like is not None:
        made = _made.get(like, _Made(None, None))
        base_url = base_url if base_url is not None else str(like.base_url)
        api_key = api_key if api_key is not None else like.api_key
        transport = transport if transport is not None else made.transport
        guard = guard if guard is not None else made.guard
    if not (api_key or config.api_key_set()):
        raise config.ConfigError(
            "The live API (COURSE_BACKEND=openai) needs an API key, and OPENAI_API_KEY is not "
            "set. Set it in the environment before starting Jupyter or the runner (export "
            "OPENAI_API_KEY=...), or unset COURSE_BACKEND to use the offline simulator. See "
            "notebooks/00_start_here.ipynb."
        )
    if transport is not None or guard is not None:
        if "http_client" in sdk_options:
            raise TypeError(
                "make_client: pass transport= rather than http_client= for a guarded or "
                "in-process client (the client is built around that transport)"
            )
        sdk_options["http_client"] = _http_client(asynchronous, base_url, transport, guard)
    elif "http_client" not in sdk_options:  # the SDK's own client, sharing one TLS context
        sdk_options["http_client"] = (_OwnAsyncHttpClient if asynchronous else _OwnHttpClient)(
            verify=shared_ssl_context()
        )
    sdk_options.update(base_url=base_url, api_key=api_key)
    client = openai.AsyncOpenAI(**sdk_options) if asynchronous else openai.OpenAI(**sdk_options)
    _made[client] = _Made(guard, transport)
    return client


def guard_of(client: Client) -> TransportGuard | None:
    """The guard a client made here sends through (None: unguarded, or built by hand)."""
    made = _made.get(client)
    return made.guard if made is not None else None


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """The one TLS context every client built here verifies servers with.

    httpx builds a fresh one for each client, and building one reads the system's CA bundle:
    ~30 ms of CPU, ten times a request to the simulator, paid even by a client that only ever
    speaks plain HTTP to it. Lessons build dozens of clients (each ``sim.client()``, each
    ``run_prompts`` call), so they share this one, as the connections of one client already do.
    It is made as httpx makes its default (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` are read once).
    """
    return httpx2.create_ssl_context()


class _OwnHttpClient(openai.DefaultHttpxClient):
    """The SDK's default HTTP client, closed when dropped as the one the SDK builds itself is."""

    def __del__(self) -> None:
        if not self.is_closed:
            with contextlib.suppress(Exception):
                self.close()


class _OwnAsyncHttpClient(openai.DefaultAsyncHttpxClient):
    """``_OwnHttpClient``'s async twin (closed on the running event loop, as the SDK does)."""

    def __del__(self) -> None:
        if not self.is_closed:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().create_task(self.aclose())


def _http_client(
    asynchronous: bool, base_url: str | None, transport: Any, guard: TransportGuard | None
) -> httpx2.Client | httpx2.AsyncClient:
    """The SDK's default HTTP client around ``transport`` (the network's by default), guarded."""
    if transport is None:  # the network (an in-process transport needs no TLS: a browser tab)
        kind = httpx2.AsyncHTTPTransport if asynchronous else httpx2.HTTPTransport
        proxy = _environment_proxy(base_url or config.live_base_url())
        transport = kind(
            verify=shared_ssl_context(), limits=_sdk.DEFAULT_CONNECTION_LIMITS, proxy=proxy
        )
    outer = transport if guard is None else guard.wrap(transport, asynchronous=asynchronous)
    # not closed when dropped: a transport given here may serve a twin client too (``like=``)
    if asynchronous:
        return openai.DefaultAsyncHttpxClient(transport=outer)
    return openai.DefaultHttpxClient(transport=outer)


def _environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``NO_PROXY``, ...).

    An HTTP client given its own transport ignores those variables, so the one it would have
    used is looked up here (with the standard library's reading of them).
    """
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy is None or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy
