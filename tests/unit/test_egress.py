"""The SSRF guard: policy checks without I/O, then real requests to a local receiver."""

from __future__ import annotations

import ipaddress

import pytest

from app.core import egress
from tests.plugins.receivers import Reply, http_receiver

REFUSED_URLS = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::1]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_non_public_addresses_are_refused(url):
    async with egress.Egress() as client:
        # httpx itself rejects some forms (octal) as invalid: refused before any resolution
        with pytest.raises(egress.EgressRefused, match=r"non-public|not a valid URL"):
            await client.post_json(url, {"x": 1})


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/", "gopher://example.com/", "http://u:p@example.com/",
    "http:///nohost", "not a url",
])
def test_only_plain_http_urls_pass(url):
    with pytest.raises(egress.EgressRefused):
        egress.check_url(url)


@pytest.mark.parametrize(("host", "expected"), [
    ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"), ("::1", "::1"), ("[::1]", "::1"), ("example.com", None),
    ("deadbeef", None),
])
def test_numeric_host_forms_are_normalised(host, expected):
    result = egress.ip_literal(host)
    assert (str(result) if result else None) == expected


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("203.0.113.9", False),
    ("198.18.0.1", False), ("255.255.255.255", False), ("ff02::1", False), ("::", False),
    ("2001:0::1", False),
])
def test_public_address_classification(address, public):
    assert egress.is_public_address(ipaddress.ip_address(address)) is public


async def test_private_egress_setting_allows_local_receivers_and_keeps_host_header():
    with http_receiver() as receiver:
        policy = egress.EgressPolicy(allow_private=True)
        async with egress.Egress(policy) as client:
            response = await client.post_json(receiver.url("/x", host="localhost"), {"a": 1})
        assert response.status_code == 200
        assert response.content == b"ok"
        [request] = receiver.requests
        assert request.path == "/x"
        assert request.headers["host"] == f"localhost:{receiver.port}"
        assert request.body == b'{"a":1}'


async def test_redirects_are_refused_and_not_followed():
    with http_receiver() as target, http_receiver() as redirector:
        redirector.default = Reply(302, {"Location": target.url("/internal")})
        async with egress.Egress(egress.EgressPolicy(allow_private=True)) as client:
            with pytest.raises(egress.EgressRefused, match="redirects are not followed"):
                await client.post_json(redirector.url(), {})
        assert target.requests == []


async def test_redirect_to_loopback_is_refused_without_private_egress():
    # The public-side equivalent: with the guard on, the loopback hop is refused either way.
    with http_receiver() as redirector:
        redirector.default = Reply(307, {"Location": "http://127.0.0.1:1/"})
        async with egress.Egress() as client:
            with pytest.raises(egress.EgressRefused):
                await client.post_json(redirector.url(), {})
        assert redirector.requests == []


async def test_response_size_is_bounded():
    with http_receiver() as receiver:
        receiver.default = Reply(200, body=b"x" * 5000)
        policy = egress.EgressPolicy(allow_private=True, max_response_bytes=1000)
        async with egress.Egress(policy) as client:
            with pytest.raises(egress.ResponseTooLarge):
                await client.post_json(receiver.url(), {})


async def test_non_2xx_answers_are_returned_not_raised():
    with http_receiver() as receiver:
        receiver.default = Reply(503, {"Retry-After": "7"}, b"busy")
        async with egress.Egress(egress.EgressPolicy(allow_private=True)) as client:
            response = await client.post_json(receiver.url(), {})
        assert (response.status_code, response.ok) == (503, False)
        assert response.headers["retry-after"] == "7"


async def test_unresolvable_host_is_an_error():
    async with egress.Egress() as client:
        with pytest.raises(egress.EgressError, match="cannot resolve"):
            await client.post_json("http://no-such-host.invalid/", {})


async def test_timeouts_are_enforced():
    import socket

    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        policy = egress.EgressPolicy(allow_private=True, timeout=0.3)
        async with egress.Egress(policy) as client:
            with pytest.raises(egress.EgressError, match="within"):
                await client.post_json(f"http://127.0.0.1:{port}/", {})
