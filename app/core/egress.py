"""Outgoing HTTP that users can point somewhere: the SSRF guard.

Every request to a URL a tenant (or a plugin) chose goes through :class:`Egress`:

* only ``http`` and ``https``, no credentials in the URL;
* the host is resolved here and **every** address it resolves to must be public — loopback,
  private (RFC 1918), link-local (incl. the ``169.254.169.254`` metadata service), CGNAT
  (100.64/10), multicast, reserved, unspecified, IPv6 ULA/link-local and IPv4-mapped, 6to4,
  Teredo and NAT64 forms of those are refused. Numeric hosts in any form the C resolver accepts
  (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``) are normalised first;
* the connection goes to the address that was checked: the transport rewrites the URL to the IP
  and keeps the ``Host`` header and the TLS server name (SNI and certificate check) of the
  original host, so a DNS answer that changes between check and connect (rebinding) is never used;
* redirects are not followed: a 3xx answer is an error;
* the response body is read up to a bound, and the whole exchange has a deadline.

``allow_private`` (``KILN_ALLOW_PRIVATE_EGRESS``) lifts the address check only, for self-hosted
deployments that alert to internal hosts (and for tests); everything else still applies.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json as jsonlib
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_V4 = re.compile(r"^[0-9a-fA-FxX.]+$")


class EgressError(Exception):
    """An outgoing request failed (network error, timeout, redirect, oversized answer)."""


class EgressRefused(EgressError):
    """The SSRF policy refused the URL before any connection was made."""


class ResponseTooLarge(EgressError):
    """The answer exceeded the response-size bound."""


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    allow_private: bool = False
    """Allow non-public addresses (``KILN_ALLOW_PRIVATE_EGRESS``)."""
    timeout: float = 10.0
    """Deadline of one whole exchange, resolution to last body byte, in seconds."""
    max_response_bytes: int = 65_536
    """Bodies larger than this raise :class:`ResponseTooLarge`."""


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is a globally routable unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return is_public_address(ip.sixtofour)
        if ip.teredo is not None:
            return False
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return bool(
        ip.is_global and not ip.is_multicast and not ip.is_reserved and not ip.is_unspecified
        and not ip.is_loopback and not ip.is_link_local
    )


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` denotes when it is numeric, in any form the C resolver accepts."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _NUMERIC_V4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_url(url: str | httpx.URL) -> httpx.URL:
    """Parse ``url`` and apply the checks that need no resolution; return the parsed URL."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise EgressRefused(f"not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise EgressRefused(f"only http and https URLs are allowed, not {parsed.scheme or '?'!r}")
    if not parsed.host:
        raise EgressRefused("the URL has no host")
    if parsed.userinfo:
        raise EgressRefused("credentials in the URL are not allowed")
    return parsed


async def resolve(host: str, port: int, *, allow_private: bool) -> IPAddress:
    """Resolve ``host`` and return the address to connect to, refusing non-public ones."""
    literal = ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise EgressError(f"cannot resolve {host!r}: {exc.strerror}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise EgressError(f"{host!r} resolves to no address")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise EgressRefused(
                    f"{host!r} resolves to the non-public address {address}; outgoing requests"
                    " may only reach public addresses (KILN_ALLOW_PRIVATE_EGRESS allows others)"
                )
    return addresses[0]


class _PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves and checks the host of each request, then connects to that very address."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._inner = httpx.AsyncHTTPTransport(retries=0, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = check_url(request.url)
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await resolve(host, port, allow_private=self._policy.allow_private)
        extensions = dict(request.extensions)
        if url.scheme == "https" and ip_literal(host) is None:
            extensions["sni_hostname"] = host  # TLS name and certificate check: the real host
        pinned = httpx.Request(
            request.method, url.copy_with(host=str(address)), headers=request.headers,
            stream=request.stream, extensions=extensions,
        )
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True, slots=True)
class EgressResponse:
    """A complete, size-bounded answer."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class Egress:
    """The SSRF-safe HTTP client that alert channels and plugins use. Close with :meth:`aclose`
    (or use ``async with``)."""

    def __init__(self, policy: EgressPolicy | None = None) -> None:
        self.policy = policy or EgressPolicy()
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=_PinnedTransport(self.policy), follow_redirects=False,
                timeout=self.policy.timeout, trust_env=False,
                headers={"User-Agent": "Kiln-Alerts/1"},
            )
        return self._client

    async def __aenter__(self) -> Egress:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def request(
        self, method: str, url: str, *, json: Any = None, content: bytes | None = None,
        headers: Mapping[str, str] | None = None, deadline: float | None = None,
    ) -> EgressResponse:
        """Send one request under the policy. Raises :class:`EgressRefused` before connecting
        when the URL is not allowed and :class:`EgressError` for every other failure; a non-2xx
        answer is *returned* (callers decide what it means). ``deadline`` overrides the policy's
        timeout for this call."""
        check_url(url)
        deadline = deadline or self.policy.timeout
        try:
            async with asyncio.timeout(deadline):
                return await self._exchange(method, url, json, content, headers)
        except TimeoutError:
            raise EgressError(f"no complete answer within {deadline:g}s") from None
        except httpx.HTTPError as exc:
            raise EgressError(f"{type(exc).__name__}: {exc or 'request failed'}") from None

    async def _exchange(
        self, method: str, url: str, json: Any, content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> EgressResponse:
        limit = self.policy.max_response_bytes
        async with self._http().stream(
            method, url, json=json, content=content, headers=dict(headers or {})
        ) as response:
            if 300 <= response.status_code < 400:
                target = response.headers.get("location", "?")
                raise EgressRefused(
                    f"redirects are not followed (HTTP {response.status_code} to {target})"
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > limit:
                    raise ResponseTooLarge(f"response larger than {limit} bytes")
            return EgressResponse(response.status_code, response.headers, bytes(body))

    async def post_json(
        self, url: str, payload: Any, *, headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
    ) -> EgressResponse:
        return await self.request("POST", url, json=payload, headers=headers, deadline=deadline)
