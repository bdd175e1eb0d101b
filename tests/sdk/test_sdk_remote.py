"""The Images SDK against a real server: same bytes, same errors, auth, malformed requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
import pyvips

from conftest import RunningServer, read_photo
from focal import Images
from focal.errors import ErrorKind, FocalError, OptionError
from focal.json_input import MAX_JSON_DEPTH
from imaging import decode, gradient, png

TOKEN = "test-token"
Start = Callable[..., RunningServer]


def watermark() -> bytes:
    image = (pyvips.Image.black(100, 100, bands=3) + [255, 255, 255]).cast("uchar")
    return png(image.bandjoin_const([160]).copy(interpretation="srgb"))


@pytest.fixture
def server(start_server: Start) -> RunningServer:
    return start_server(api_tokens=(TOKEN,))


def issue_chain(images: Images) -> bytes:
    """The issue's example chain: rotate, a small watermark, then blur, as AVIF."""
    result = (
        images.input(read_photo("chelsea"))
        .transform(rotate=90)
        .draw(images.input(watermark()).transform(width=32), bottom=10, right=10, opacity=0.75)
        .transform(blur=5)
        .output(format="image/avif", quality=60)
    )
    assert result.content_type == "image/avif"
    assert (result.width, result.height) == (300, 451)
    return result.bytes()


def tiled_chain(images: Images) -> bytes:
    mark = images.input(watermark()).transform(width=40, flip="h")
    return (
        images.input(read_photo("astronaut"))
        .transform(trim="20;20;20;20", width=300, height=200, fit="cover", gravity="auto")
        .draw(mark, repeat=True, opacity=0.3, composite="lighter")
        .draw(gradient(30, 20).pngsave_buffer(), top=4, left=4, background="red")
        .output(format="image/webp", quality=70)
        .bytes()
    )


@pytest.mark.parametrize("chain", [issue_chain, tiled_chain])
def test_embedded_and_remote_give_identical_bytes(
    server: RunningServer, chain: Callable[[Images], bytes]
) -> None:
    with Images(server.url, token=TOKEN) as remote:
        assert chain(remote) == chain(Images())


def test_async_remote_and_info(server: RunningServer) -> None:
    photo = read_photo("chelsea")

    async def main() -> tuple[bytes, object]:
        async with Images(server.url, token=TOKEN) as remote:
            result = await remote.input(photo).transform(width=90).output_async(format="png")
            return result.bytes(), await remote.info_async(photo)

    data, info = asyncio.run(main())
    embedded = Images()
    assert data == embedded.input(photo).transform(width=90).output(format="png").bytes()
    assert info == embedded.info(photo)
    with Images(server.url, token=TOKEN) as remote:
        assert remote.info(photo) == embedded.info(photo)


def test_remote_errors_are_raised_as_embedded_ones(server: RunningServer) -> None:
    not_an_image = b"not an image at all"
    raised = []
    for images in (Images(), Images(server.url, token=TOKEN)):
        with pytest.raises(FocalError) as caught:
            images.input(not_an_image).transform(width=10).output(format="webp")
        raised.append(caught.value)
        with pytest.raises(FocalError) as drawn:
            images.input(read_photo("chelsea")).draw(not_an_image).output(format="webp")
        raised.append(drawn.value)
        with pytest.raises(FocalError) as info:
            images.info(not_an_image)
        raised.append(info.value)
    embedded, remote = raised[:3], raised[3:]
    for local, far in zip(embedded, remote, strict=True):
        assert type(far) is type(local)
        assert (far.kind, far.message) == (local.kind, local.message)
        assert far.kind is ErrorKind.NOT_AN_IMAGE


def test_trim_removing_everything_is_an_option_error_in_both(server: RunningServer) -> None:
    for images in (Images(), Images(server.url, token=TOKEN)):
        chain = images.input(read_photo("chelsea")).transform(trim="200;0;200;0")
        with pytest.raises(OptionError, match="trim removes the whole image"):
            chain.output(format="png")


# --- authorization ------------------------------------------------------------------------


def test_only_known_tokens_are_let_in(start_server: Start) -> None:
    server = start_server()
    with pytest.raises(FocalError, match="focal token create") as caught:
        Images(server.url, token=TOKEN).info(read_photo("chelsea"))
    assert caught.value.kind is ErrorKind.ACCESS_DENIED
    with server.client() as client:
        response = client.post("/info", files={"input-0": ("a", b"x")})
    assert response.status_code == 401
    _, secret = server.parts.hosted_catalog.create_token("sdk")
    assert Images(server.url, token=secret).info(read_photo("chelsea")).width == 451


def test_missing_or_wrong_token(server: RunningServer) -> None:
    photo = read_photo("chelsea")
    with pytest.raises(FocalError) as missing:
        Images(server.url).info(photo)
    assert missing.value.kind is ErrorKind.NOT_AUTHENTICATED
    with pytest.raises(FocalError) as wrong:
        Images(server.url, token="nope").input(photo).output(format="png")
    assert wrong.value.kind is ErrorKind.ACCESS_DENIED
    with server.client() as client:
        bare = client.post("/transform", files={"input-0": ("a", photo)})
        basic = client.post("/info", headers={"Authorization": "Basic abc"})
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"].startswith("Bearer")
    assert bare.headers["cf-resized"] == "err=9425"
    assert basic.status_code == 401


# --- requests made by hand ---------------------------------------------------------------


def post_chain(server: RunningServer, chain: str, inputs: list[bytes]) -> httpx.Response:
    files: list[tuple[str, tuple[str | None, bytes, str]]] = [
        (f"input-{index}", (f"input-{index}", data, "application/octet-stream"))
        for index, data in enumerate(inputs)
    ]
    files.append(("chain", (None, chain.encode(), "application/json")))
    with server.client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        return client.post("/transform", files=files)


GOOD_OUTPUT = {"format": "png", "quality": None, "anim": True}


@pytest.mark.parametrize(
    ("chain", "code", "message"),
    [
        ("{not json", 9424, "not JSON"),
        (json.dumps({"operations": {}, "output": GOOD_OUTPUT}), 9424, "should be a valid list"),
        (json.dumps({"operations": [], "output": GOOD_OUTPUT, "x": 1}), 9424, "unknown field 'x'"),
        (
            json.dumps({"operations": [], "output": {**GOOD_OUTPUT, "quality": True}}),
            9424,
            "'output.quality'",
        ),
        # Booleans are not numbers, wherever a number is read from the chain.
        (
            json.dumps({"operations": [{"op": "blur", "radius": True}], "output": GOOD_OUTPUT}),
            9401,
            "blur.radius='true'",
        ),
        (
            json.dumps(
                {"operations": [{"op": "draw", "input": 0, "left": True}], "output": GOOD_OUTPUT}
            ),
            9401,
            "draw.left='true'",
        ),
        (json.dumps({"operations": [{"op": "explode"}], "output": GOOD_OUTPUT}), 9424, "unknown"),
        (json.dumps({"operations": [{"op": "rotate"}], "output": GOOD_OUTPUT}), 9424, "missing"),
        (
            json.dumps(
                {"operations": [{"op": "rotate", "angle": 90, "x": 1}], "output": GOOD_OUTPUT}
            ),
            9424,
            "no parameter x",
        ),
        (
            json.dumps({"operations": [{"op": "blur", "radius": [1]}], "output": GOOD_OUTPUT}),
            9424,
            "number",
        ),
        (
            json.dumps({"operations": [{"op": "blur", "radius": 999}], "output": GOOD_OUTPUT}),
            9401,
            "blur.radius",
        ),
        (
            json.dumps({"operations": [{"op": "draw", "input": 5}], "output": GOOD_OUTPUT}),
            9424,
            "input 5",
        ),
        (
            json.dumps(
                {
                    "operations": [{"op": "draw", "input": 0, "left": 1, "right": 1}],
                    "output": GOOD_OUTPUT,
                }
            ),
            9401,
            "left or right",
        ),
        (json.dumps({"operations": [], "output": {"format": "json"}}), 9401, "cannot be written"),
        (json.dumps([1, 2]), 9424, "operations"),
    ],
)
def test_a_malformed_operation_list_is_a_400(
    server: RunningServer, chain: str, code: int, message: str
) -> None:
    response = post_chain(server, chain, [read_photo("chelsea")])
    assert response.status_code == 400
    assert response.headers["cf-resized"] == f"err={code}"
    assert message in response.text


def test_a_hand_made_chain_runs(server: RunningServer) -> None:
    chain = {
        "operations": [
            {"op": "resize", "width": 50},
            {"op": "draw", "input": 1, "operations": [{"op": "resize", "width": 10}]},
        ],
        "output": {"format": "png"},
    }
    response = post_chain(server, json.dumps(chain), [read_photo("chelsea"), watermark()])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert decode(response.content).width == 50 == int(response.headers["focal-width"])


def test_missing_parts_and_oversize_inputs(start_server: Start) -> None:
    server = start_server(api_tokens=(TOKEN,), max_input_bytes=10_000)
    photo = read_photo("chelsea")  # 240 kB
    no_chain = post_chain(server, "", [])
    assert no_chain.status_code == 400
    too_big = post_chain(server, json.dumps({"operations": [], "output": GOOD_OUTPUT}), [photo])
    assert too_big.status_code == 413
    assert "limit is 10,000 bytes" in too_big.text
    with pytest.raises(FocalError) as caught:  # the client's own limit is 20 MB: the server's
        Images(server.url, token=TOKEN).info(photo)
    assert caught.value.kind is ErrorKind.SOURCE_TOO_LARGE
    # Far over the whole request's limit: refused while it streams in, not after.
    many = [photo] * 9
    streamed = post_chain(server, json.dumps({"operations": [], "output": GOOD_OUTPUT}), many)
    assert streamed.status_code == 413
    assert "the request is over" in streamed.text


def _nested_draws(depth: int) -> dict[str, object]:
    operations: list[object] = []
    for _ in range(depth):
        operations = [{"op": "draw", "input": 0, "operations": operations}]
    return {"operations": operations, "output": GOOD_OUTPUT}


@pytest.mark.parametrize(
    "chain",
    [
        '{"operations": ' + "[" * 5000 + "]" * 5000 + ', "output": {"format": "png"}}',
        json.dumps(_nested_draws(400)),
    ],
    ids=["lists-5000-deep", "draws-400-deep"],
)
def test_deeply_nested_chain_is_a_400_naming_the_limit(server: RunningServer, chain: str) -> None:
    response = post_chain(server, chain, [read_photo("chelsea")])
    assert response.status_code == 400
    assert f"more than {MAX_JSON_DEPTH} deep" in response.text


def test_draws_nested_within_the_depth_limit_still_run(server: RunningServer) -> None:
    response = post_chain(server, json.dumps(_nested_draws(5)), [read_photo("chelsea")])
    assert response.status_code == 200, response.text
