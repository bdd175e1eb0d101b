"""Refusals over HTTP: clear 4xx with codes, onerror=redirect, and nothing that gives a 500
or breaks a response."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

from conftest import RunningServer, read_photo
from http_delivery import assert_error, image_size, module_fixtures, raw_get
from imaging import animated, coloured_frames, gradient, png

server, client = module_fixtures()


# --- errors ---------------------------------------------------------------------------------


def test_unknown_option(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=100,sepia=1/rocket.jpg")
    assert_error(response, 400, 9401)
    assert "sepia" in response.text
    for known in ("width", "height", "fit", "gravity", "quality", "format"):
        assert known in response.text


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (
            "fit=stretch,width=10",
            [
                "fit",
                "stretch",
                "scale-down",
                "contain",
                "cover",
                "crop",
                "aspect-crop",
                "pad",
                "squeeze",
                "scale-up",
            ],
        ),
        ("width=abc", ["width", "1 to 12000"]),
        ("quality=200", ["quality", "1 to 100", "high", "low"]),
        ("format=bmp", ["format", "bmp", "avif", "webp", "jpeg", "json"]),
        ("gravity=middle,w=10", ["gravity", "middle", "left", "XxY"]),
        ("rotate=45", ["rotate", "90, 180 or 270"]),
        ("background=notacolour", ["background", "CSS colour"]),
        ("trim=1;2", ["trim", "top;right;bottom;left"]),
        ("flip=x", ["flip", "h, v, hv"]),
    ],
)
def test_bad_values_name_the_option_and_the_allowed_values(
    client: httpx.Client, options: str, words: list[str]
) -> None:
    response = client.get(f"/cdn-cgi/image/{options}/rocket.jpg")
    assert_error(response, 400, 9401)
    for word in words:
        assert word in response.text


@pytest.mark.parametrize("options", ["width", "=5", "width=", "w=1,w=2", ",,,", "width=1;height=2"])
def test_malformed_options(client: httpx.Client, options: str) -> None:
    assert_error(client.get(f"/cdn-cgi/image/{options}/rocket.jpg"), 400, 9401)


def test_not_an_image(client: httpx.Client) -> None:
    for source in ("notes.txt", "fake.jpg"):
        response = client.get(f"/cdn-cgi/image/width=100/{source}")
        assert_error(response, 415, 9412)


def test_missing_file(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=100/nothing-here.jpg")
    assert_error(response, 404, 9404)
    assert "nothing-here.jpg" in response.text
    assert_error(client.get("/cdn-cgi/image/width=100/people"), 404, 9404)  # a folder


@pytest.mark.parametrize(
    "path",
    [
        "/cdn-cgi/image/width=100/../secret.jpg",
        "/cdn-cgi/image/width=100/people/../../secret.jpg",
        "/cdn-cgi/image/width=100/%2e%2e/secret.jpg",
        "/cdn-cgi/image/width=100/%2E%2E%2Fsecret.jpg",
        "/cdn-cgi/image/width=100/..%2fsecret.jpg",
        "/cdn-cgi/image/width=100/people/..%5c..%5csecret.jpg",
        "/cdn-cgi/image/width=100/.%2e/secret.jpg",
        "/originals/../secret.jpg",
        "/originals/%2e%2e/secret.jpg",
    ],
)
def test_path_traversal_is_refused(server: RunningServer, path: str) -> None:
    status, headers, body = raw_get(server, path)
    assert status == 403, (status, body)
    assert headers["cf-resized"] == "err=9406"
    assert read_photo("rocket")[:64] not in body


def test_absolute_paths_stay_inside_the_origin(server: RunningServer) -> None:
    status, _, body = raw_get(
        server, f"/cdn-cgi/image/width=100/{server.settings.data_dir}/secret.jpg"
    )
    assert status == 404
    status, _, _ = raw_get(server, "/cdn-cgi/image/width=100//etc/passwd")
    assert status == 404


def test_oversize_original_is_refused_before_decoding(start_server) -> None:
    server = start_server(max_source_bytes=10_000)
    # not an image: had it been read and decoded, the answer would be 415, not 413
    (server.origin / "big.jpg").write_bytes(b"\0" * 20_000)
    (server.origin / "small.png").write_bytes(png(gradient(20, 20)))
    with server.client() as client:
        response = client.get("/cdn-cgi/image/width=100/big.jpg")
        assert_error(response, 413, 9402)
        assert "10,000" in response.text
        assert client.get("/cdn-cgi/image/width=10/small.png").status_code == 200


def test_too_many_pixels(start_server) -> None:
    server = start_server(max_pixels=100_000)
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))  # 451×300 = 135,300 px
    (server.origin / "ok.png").write_bytes(png(gradient(300, 300)))
    with server.client() as client:
        response = client.get("/cdn-cgi/image/width=100/cat.png")
        assert_error(response, 403, 9413)
        assert "100,000" in response.text
        assert client.get("/cdn-cgi/image/width=100/ok.png").status_code == 200


def test_decompression_bomb_is_refused_from_its_header(client: httpx.Client) -> None:
    for options in ("width=100", "format=json", "width=10,onerror=redirect"):
        response = client.get(f"/cdn-cgi/image/{options}/bomb.png")
        if "onerror" in options:
            assert response.status_code == 302
            assert response.headers["cf-resized"] == "err=9413"
        else:
            assert_error(response, 403, 9413)
            assert "20000" in response.text


def test_result_too_large(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=12000,fit=scale-up/tall.png")
    assert_error(response, 403, 9413)


def test_the_products_own_loop_marker_is_refused(client: httpx.Client) -> None:
    for via in ("image-resizing", "1.1 image-resizing", "1.1 cache, Image-Resizing"):
        response = client.get("/cdn-cgi/image/width=100/rocket.jpg", headers={"Via": via})
        assert_error(response, 508, 9403)


@pytest.mark.parametrize(
    "source",
    ["ftp://example.com/a.jpg", "ftp:/example.com/a.jpg", "file:///etc/passwd", "s3://b/k"],
)
def test_non_http_schemes_are_invalid_urls(client: httpx.Client, source: str) -> None:
    response = client.get(f"/cdn-cgi/image/width=100/{source}")
    assert_error(response, 403, 9406)
    assert "http" in response.text and "no original" not in response.text


def test_via_loop_is_refused(client: httpx.Client) -> None:
    for via in ("1.1 focal", "1.0 cache, HTTP/1.1 focal (Focal)", "1.1 FOCAL"):
        response = client.get("/cdn-cgi/image/width=100/rocket.jpg", headers={"Via": via})
        assert_error(response, 508, 9403)
    other = client.get("/cdn-cgi/image/width=100/rocket.jpg", headers={"Via": "1.1 varnish"})
    assert other.status_code == 200


# --- onerror=redirect -----------------------------------------------------------------------


def test_onerror_redirect_sends_the_original(client: httpx.Client) -> None:
    for options in (
        "width=12000,fit=scale-up,onerror=redirect",  # result too large
        "trim=0;0.6;0;0.6,onerror=redirect",
    ):  # trims away everything
        source = "tall.png" if "scale-up" in options else "rocket.jpg"
        response = client.get(f"/cdn-cgi/image/{options}/{source}")
        assert response.status_code == 302, response.text
        assert response.headers["location"] == f"/originals/{source}"
        assert response.headers["cf-resized"].startswith("err=")
        original = client.get(response.headers["location"])
        assert original.status_code == 200
        assert original.content == (client.get(f"/originals/{source}").content)
    # without onerror the same failure is an error
    assert client.get("/cdn-cgi/image/trim=0;0.6;0;0.6/rocket.jpg").status_code == 400


def test_onerror_redirect_does_not_hide_a_working_transformation(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=50,onerror=redirect/rocket.jpg")
    assert response.status_code == 200
    assert image_size(response)[0] == 50


# --- nothing gives a 500 --------------------------------------------------------------------

NASTY_OPTIONS = [
    "",
    " ",
    ",",
    "=",
    "==",
    "a=b=c",
    "width=1e400",
    "width=-0",
    "width=0x10",
    "width=١٠٠",
    "w=auto,h=auto",
    "dpr=1e-300,w=1",
    "dpr=3,w=12000",
    "w=12000,h=12000,fit=pad",
    "background=rgba(",
    "background=rgba(1,2,3,4,5)",
    "background=%23",
    "background=%23zzz",
    "gravity=0.5x",
    "gravity=xx",
    "gravity=1e999x0",
    "trim=;;;",
    "trim=1;1;1;1;1",
    "trim=99999;0;0;0",
    "trim.border.color=",
    "trim.border=maybe",
    "trim.width=0.0000001",
    "blur=250,sharpen=10,w=3",
    "q=%00",
    "%00=1",
    "f=json,anim=false,w=1",
    "width=1" * 600,
    "onerror=redirect,fit=bogus",
    "rotate=9999999999999999999999",
    "zoom=nan,g=face",
    "w=1,h=12000,fit=cover",
    "w=12000,h=1,fit=crop",
    "fit=cover,g=auto,w=1,h=1",
    "%E2%82%AC=1",
    "width=%F0%9F%98%80",
    "trim=border,trim.border.keep=100000",
    "w=10,background=transparent,fit=pad,h=10,f=jpeg",
    "f=avif,anim=true,w=5",
]
NASTY_SOURCES = [
    "rocket.jpg",
    "anim.gif",
    "alpha.png",
    "bomb.png",
    "notes.txt",
    "",
    "/",
    "//",
    ".",
    "..",
    "%00",
    "rocket.jpg%00.png",
    "a" * 300,
    "http:",
    "http://",
    "https://[::1]/x.jpg",
    "http://0.0.0.0/x",
    "http://169.254.169.254/latest/meta-data",
    "http://localhost:1/x",
    "http://%00/",
    "http://exa mple.com/x",
    "https://example.com:99999/x",
    "ftp://x",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "people/",
    "tall.png",
]


def path_of(options: str, source: str) -> str:
    """The request path, with what HTTP forbids in a path (spaces, controls) %-encoded and
    everything else, including %-escapes already there, sent as written."""
    return quote(f"/cdn-cgi/image/{options}/{source}", safe="/%=,;:@()+~!*'$&")


def test_nasty_requests_never_get_a_500(server: RunningServer) -> None:
    statuses: set[int] = set()
    for options in NASTY_OPTIONS:
        for source in ("rocket.jpg", "anim.gif", "alpha.png"):
            status, headers, body = raw_get(server, path_of(options, source))
            assert status < 500, (options, source, status, body[:200])
            statuses.add(status)
    for source in NASTY_SOURCES:
        for options in ("width=50", "format=json", "width=50,onerror=redirect"):
            status, headers, body = raw_get(server, path_of(options, source))
            assert status < 500, (options, source, status, body[:200])
            if status >= 400 and "cf-resized" in headers:
                assert body.strip()
            statuses.add(status)
    assert 200 in statuses and 400 in statuses and 403 in statuses


def test_hashes_do_not_leak_the_path(client: httpx.Client) -> None:
    # the ETag is a hash, never the file's path or inode in clear
    etag = client.get("/cdn-cgi/image/width=30/rocket.jpg").headers["etag"]
    assert "rocket" not in etag and "/" not in etag
    assert len(etag.strip('"')) >= 16
    int(etag.strip('"'), 16)  # hexadecimal digits of a hash


def test_json_is_valid_json_even_for_odd_options(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/format=json,trim=border,rotate=270,dpr=2,h=40/cat.png")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert isinstance(body["width"], int) and isinstance(body["height"], int)


NASTY_HEADERS = [
    {"Sec-CH-Width": "inf"},
    {"Sec-CH-Width": "1e400"},
    {"Sec-CH-Width": "-1"},
    {"Sec-CH-Width": "nan"},
    {"Width": "99999999999999999999"},
    {"Sec-CH-Viewport-Width": "-inf"},
    {"Sec-CH-UA-Mobile": "?1", "Sec-CH-Width": "abc"},
    {"Save-Data": "on", "RTT": "inf", "Downlink": "-inf", "ECT": "5g"},
    {"Accept": "image/avif;q=abc, image/webp;q=, */*;;;"},
    {"Accept": "," * 500},
    {"If-None-Match": '"", W/, *, ,,'},
    {"Via": "(((, 1.1"},
    {"Via": "focal"},
]


@pytest.mark.parametrize("headers", NASTY_HEADERS)
def test_nasty_client_hints_never_get_a_500(client: httpx.Client, headers: dict[str, str]) -> None:
    for options in ("width=auto,format=auto,scq=20", "width=auto,format=json", "width=40"):
        response = client.get(f"/cdn-cgi/image/{options}/rocket.jpg", headers=headers)
        assert response.status_code in (200, 304), (options, response.text)
        if options.endswith("json") and response.status_code == 200:
            # no hint here is a usable width below the original's 640 px
            assert response.json()["width"] == 640


# --- header values made from text -----------------------------------------------------------


def undecodable_gif() -> bytes:
    """A GIF whose header reads (format=json needs no more) but whose pixels do not: libvips'
    error text for it spans lines."""
    data = bytearray(animated(coloured_frames(60, 40, 3)))
    data[60:-1] = b"\xff" * (len(data) - 61)
    return bytes(data)


def test_face_detection_error_text_never_breaks_the_response(start_server) -> None:
    server = start_server()
    (server.origin / "broken.gif").write_bytes(undecodable_gif())
    status, headers, body = raw_get(server, "/cdn-cgi/image/format=json,gravity=face/broken.gif")
    assert status == 200, body
    gravity = headers["focal-gravity"]
    assert gravity.startswith('center; reason="face detection unavailable: ')
    assert gravity.isascii() and gravity.isprintable() and len(gravity) < 300
    assert json.loads(body)["width"] == 60


def test_redirect_location_is_a_valid_url_whatever_the_file_name(
    server: RunningServer, client: httpx.Client
) -> None:
    name = "😀 cat.jpg"
    (server.origin / name).write_bytes(read_photo("rocket"))
    response = client.get(f"/cdn-cgi/image/trim=0;0.6;0;0.6,onerror=redirect/{quote(name)}")
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location == "/originals/" + quote(name)
    assert client.get(location).content == read_photo("rocket")


# --- URLs answered directly, never redirected -----------------------------------------------


def test_a_trailing_slash_after_a_local_source_is_the_same_file(client: httpx.Client) -> None:
    without = client.get("/cdn-cgi/image/width=50/rocket.jpg")
    response = client.get("/cdn-cgi/image/width=50/rocket.jpg/", follow_redirects=False)
    assert response.status_code == 200
    assert response.content == without.content
    assert response.headers["etag"] == without.headers["etag"]


@pytest.mark.parametrize(
    "path",
    [
        "/cdn-cgi/image/rocket.jpg",
        "/cdn-cgi/image/width=50",
        "/cdn-cgi/image/width=50/",
        "/cdn-cgi/image/",
        "/cdn-cgi/image",
    ],
)
def test_an_image_url_without_options_or_source_is_a_clear_400(
    client: httpx.Client, path: str
) -> None:
    for method in ("GET", "HEAD"):
        response = client.request(method, path, follow_redirects=False)
        assert response.status_code == 400, (method, path)
        assert response.headers["cf-resized"] == "err=9401"
    assert "/cdn-cgi/image/<options>/<source>" in client.get(path).text


@pytest.mark.parametrize(
    "path", ["/images/some-id/public/", "/cdn-cgi/imagedelivery/account/some-id/public/"]
)
def test_a_hosted_url_with_a_trailing_slash_is_a_clear_400(client: httpx.Client, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 400
    assert "no '/' after the variant" in response.text


# --- parameters FastAPI refuses get the API's own answer ------------------------------------


def test_a_malformed_query_parameter_gets_the_api_envelope(start_server) -> None:
    server = start_server(api_tokens=("t",))
    with server.client(headers={"Authorization": "Bearer t"}) as client:
        for query in ("per_page=abc", "page=1.5"):
            response = client.get(f"/images/v1?{query}")
            assert response.status_code == 400, response.text
            body = response.json()
            assert body["success"] is False and body["result"] is None
            assert body["errors"][0]["code"] == 9424
            assert query.split("=")[0] in body["errors"][0]["message"]
