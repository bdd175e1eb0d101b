"""Signed /cdn-cgi/image/ URLs over HTTP: FOCAL_URL_SIGNING_KEYS, unsigned options, presets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from conftest import RunningServer, read_photo, running_server, server_settings
from focal.cli import app as cli
from focal.errors import FocalError
from focal.sdk import Images
from focal.sdk.signed_urls import sign_transformation
from focal.signing import signed_url, url_signature
from http_delivery import assert_error, image_size

NEW, OLD = "new-key-0123456789", "old-key-9876543210"
PRESETS = {"thumb": "w=30,h=30,fit=cover", "hero": "w=60"}
UNSIGNED = ("w=40", "preset=thumb", "w=44,format=png")
LATER = int(time.time()) + 3600


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        if not self.path.startswith("/photo.jpg"):
            self.send_error(404)
            return
        body = read_photo("rocket")
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class OriginServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Origin)
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def origin() -> Iterator[OriginServer]:
    httpd = OriginServer()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def signing_settings(tmp_path_factory: pytest.TempPathFactory, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "url_signing_keys": (NEW, OLD),
        "unsigned_options": UNSIGNED,
        "presets": PRESETS,
        **overrides,
    }
    return server_settings(tmp_path_factory.mktemp("focal-signed"), **values)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, origin: OriginServer
) -> Iterator[RunningServer]:
    settings = signing_settings(
        tmp_path_factory, allowed_origins=(origin.url,), allow_private_networks=True
    )
    with running_server(settings) as running:
        (running.origin / "rocket.jpg").write_bytes(read_photo("rocket"))
        (running.origin / "odd names").mkdir()
        (running.origin / "odd names" / "été 1?%.jpg").write_bytes(read_photo("rocket"))
        yield running


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def signed(path: str, key: str = NEW, expires: int = LATER) -> str:
    return signed_url(key, path, expires)


def assert_refused(response: httpx.Response, why: str) -> None:
    assert_error(response, 403, 9401)
    assert why in response.text, response.text


# --- signatures --------------------------------------------------------------------------------


def test_a_signed_url_is_served_and_an_unsigned_one_refused(client: httpx.Client) -> None:
    path = "/cdn-cgi/image/width=50/rocket.jpg"
    response = client.get(signed(path))
    assert response.status_code == 200, response.text
    assert image_size(response)[0] == 50
    assert_refused(client.get(path), "needs a signature")
    # what is allowed unsigned is listed
    assert "w=40; preset=thumb; w=44,format=png" in client.get(path).text
    far = client.get(signed(path, expires=2**40))  # long-lived URLs are fine
    assert far.status_code == 200


@pytest.mark.parametrize(
    "tampered,why",
    [
        (lambda url: url.replace("width=50", "width=51"), "wrong"),  # the options
        (lambda url: url.replace("rocket.jpg", "odd%20names/%C3%A9t%C3%A9%201%3F%25.jpg"), "wrong"),
        (lambda url: url.replace(f"exp={LATER}", f"exp={LATER + 1}"), "wrong"),
        (lambda url: url[:-4] + ("0000" if not url.endswith("0000") else "1111"), "wrong"),
        (lambda url: url.replace(f"exp={LATER}", f"exp=0{LATER}"), "not a unix time"),
        (lambda url: url.rsplit("&sig=", 1)[0], "needs a signature"),
    ],
)
def test_a_tampered_url_is_refused(client: httpx.Client, tampered: Any, why: str) -> None:
    url = signed("/cdn-cgi/image/width=50/rocket.jpg")
    assert client.get(url).status_code == 200
    assert_refused(client.get(tampered(url)), why)


def test_a_respelling_does_not_reuse_a_signature(client: httpx.Client) -> None:
    sig = url_signature(NEW, "/cdn-cgi/image/width=50/rocket.jpg", LATER)
    for path in (
        "/cdn-cgi/image/%77idth=50/rocket.jpg",
        "/cdn-cgi/image/w=50/rocket.jpg",
        "/cdn-cgi/image/width=50/rock%65t.jpg",
        "/cdn-cgi/image/width=50,/rocket.jpg",
    ):
        response = client.get(f"{path}?exp={LATER}&sig={sig}")
        assert_refused(response, "signature of this URL is wrong")
    # ... while each spelling signed for itself is served
    assert client.get(signed("/cdn-cgi/image/%77idth=50/rocket.jpg")).status_code == 200


def test_an_expired_url_is_refused(client: httpx.Client) -> None:
    past = int(time.time()) - 60
    response = client.get(signed("/cdn-cgi/image/width=50/rocket.jpg", expires=past))
    assert_refused(response, "expired")
    bad = client.get("/cdn-cgi/image/width=50/rocket.jpg?exp=soon&sig=00")
    assert_refused(bad, "not a unix time")


def test_any_current_key_signs_so_keys_rotate(
    client: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = "/cdn-cgi/image/width=50/rocket.jpg"
    assert client.get(signed(path, key=OLD)).status_code == 200
    assert_refused(client.get(signed(path, key="never-a-key")), "wrong")
    # the old key removed: its URLs stop working, the new key's go on
    with running_server(signing_settings(tmp_path_factory, url_signing_keys=(NEW,))) as rotated:
        (rotated.origin / "rocket.jpg").write_bytes(read_photo("rocket"))
        with rotated.client() as after:
            assert_refused(after.get(signed(path, key=OLD)), "wrong")
            assert after.get(signed(path, key=NEW)).status_code == 200


def test_head_requests_are_checked_too(client: httpx.Client) -> None:
    assert client.head("/cdn-cgi/image/width=50/rocket.jpg").status_code == 403
    assert client.head(signed("/cdn-cgi/image/width=50/rocket.jpg")).status_code == 200


# --- unsigned options and presets --------------------------------------------------------------


def test_unsigned_options_are_allowed_in_any_spelling(client: httpx.Client) -> None:
    for options in ("w=40", "width=40", "%77idth=40", "width=40,dpr=1"):
        response = client.get(f"/cdn-cgi/image/{options}/rocket.jpg")
        assert response.status_code == 200, (options, response.text)
        assert image_size(response)[0] == 40
    assert_refused(client.get("/cdn-cgi/image/width=41/rocket.jpg"), "needs a signature")
    assert_refused(client.get("/cdn-cgi/image/width=40,format=webp/rocket.jpg"), "signature")


def test_presets_expand_to_their_options(client: httpx.Client) -> None:
    thumb = client.get("/cdn-cgi/image/preset=thumb/rocket.jpg")  # listed: unsigned is fine
    assert thumb.status_code == 200, thumb.text
    assert image_size(thumb) == (30, 30)
    same = client.get(signed("/cdn-cgi/image/w=30,h=30,fit=cover/rocket.jpg"))
    assert same.headers["etag"] == thumb.headers["etag"]  # one transformation
    # a preset not listed unsigned needs a signature like any option string
    assert_refused(client.get("/cdn-cgi/image/preset=hero/rocket.jpg"), "needs a signature")
    hero = client.get(signed("/cdn-cgi/image/preset=hero,format=png/rocket.jpg"))
    assert hero.status_code == 200, hero.text
    assert image_size(hero)[0] == 60 and hero.headers["content-type"] == "image/png"
    unknown = client.get("/cdn-cgi/image/preset=huge/rocket.jpg")
    assert_error(unknown, 400, 9401)
    assert "unknown preset 'huge'" in unknown.text and "hero, thumb" in unknown.text
    twice = client.get(signed("/cdn-cgi/image/preset=hero,width=10/rocket.jpg"))
    assert_error(twice, 400, 9401)
    assert "set by preset 'hero'" in twice.text


def test_a_signed_and_an_unsigned_request_are_one_transformation(
    client: httpx.Client, server: RunningServer
) -> None:
    before = server.parts.delivery.transformations
    responses = [
        client.get(signed("/cdn-cgi/image/format=png,width=44/rocket.jpg")),
        client.get(signed("/cdn-cgi/image/format=png,width=44/rocket.jpg", expires=LATER + 9)),
        client.get("/cdn-cgi/image/w=44,format=png/rocket.jpg"),
        client.get("/cdn-cgi/image/w=44,format=png/rocket.jpg?exp=1&sig=00"),  # allowed: unused
    ]
    assert [response.status_code for response in responses] == [200] * 4
    assert len({response.headers["etag"] for response in responses}) == 1
    assert server.parts.delivery.transformations - before == 1


def test_a_local_source_takes_no_other_query(client: httpx.Client) -> None:
    path = "/cdn-cgi/image/width=50/rocket.jpg?v=2"
    response = client.get(signed(path))
    assert_error(response, 400, 9401)
    assert "'v=2'" in response.text
    assert_error(client.get("/cdn-cgi/image/w=40/rocket.jpg?v=2"), 400, 9401)


# --- remote sources with their own query -------------------------------------------------------


def test_a_remote_source_keeps_its_query_and_exp_and_sig_come_last(
    client: httpx.Client, origin: OriginServer
) -> None:
    path = f"/cdn-cgi/image/width=50/{origin.url}/photo.jpg?v=1&size=big"
    response = client.get(signed(path))
    assert response.status_code == 200, response.text
    assert origin.paths[-1] == "/photo.jpg?v=1&size=big"  # exp and sig are not the source's
    sig = url_signature(NEW, path, LATER)
    other = path.replace("v=1", "v=2")
    assert_refused(client.get(f"{other}&exp={LATER}&sig={sig}"), "wrong")
    # exp and sig not last: they are the source's parameters, and the URL is unsigned
    moved = path.replace("?v=1", f"?exp={LATER}&sig={sig}&v=1")
    assert_refused(client.get(moved), "needs a signature")
    unsigned = client.get(f"/cdn-cgi/image/w=40/{origin.url}/photo.jpg?v=3")
    assert unsigned.status_code == 200 and origin.paths[-1] == "/photo.jpg?v=3"


# --- the signers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options,source",
    [
        ("width=50,fit=scale-down", "rocket.jpg"),
        ("width=50,background=#ff0000", "odd names/été 1?%.jpg"),
        ("preset=hero", "ORIGIN/photo.jpg?v=1&name=a b"),
    ],
)
def test_the_sdk_signs_urls_the_server_accepts(
    server: RunningServer, origin: OriginServer, options: str, source: str
) -> None:
    source = source.replace("ORIGIN", origin.url)
    with Images(server.url, signing_key=OLD) as images:
        url = images.sign_url(options, source, expires_in=600)
    assert url.startswith(server.url + "/cdn-cgi/image/")
    with httpx.Client(timeout=30) as client:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
    embedded = Images(signing_key=NEW).sign_url(options, source)
    assert embedded.startswith("/cdn-cgi/image/")
    with server.client() as client:
        assert client.get(embedded).status_code == 200


def test_the_sdk_needs_a_key_and_a_time_to_come() -> None:
    with pytest.raises(FocalError, match="signing_key"):
        Images().sign_url("width=50", "rocket.jpg")
    with pytest.raises(FocalError, match="more than 0 seconds"):
        Images(signing_key=NEW).sign_url("width=50", "rocket.jpg", expires_in=0)
    with pytest.raises(FocalError, match="a signing key is needed"):
        sign_transformation("", "width=50", "rocket.jpg", 60)


def test_focal_sign_prints_a_url_the_server_accepts(server: RunningServer) -> None:
    env = {"FOCAL_URL_SIGNING_KEYS": f"{NEW},{OLD}", "FOCAL_CONFIG": None}
    runner = CliRunner()
    args = ["sign", "width=50", "rocket.jpg", "--expires-in", "15m", "--base-url", server.url]
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith(f"{server.url}/cdn-cgi/image/width=50/rocket.jpg?exp=")
    expires = int(url.split("exp=")[1].split("&")[0])
    assert 0 < expires - time.time() <= 15 * 60
    with httpx.Client(timeout=30) as client:
        assert client.get(url).status_code == 200
    bad = runner.invoke(cli, ["sign", "width=50", "a.jpg", "--expires-in", "soon"], env=env)
    assert bad.exit_code == 2
    unset = runner.invoke(cli, ["sign", "width=50", "a.jpg"], env={"FOCAL_CONFIG": None})
    assert unset.exit_code == 2 and "FOCAL_URL_SIGNING_KEYS" in unset.stderr
