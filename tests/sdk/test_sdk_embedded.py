"""The Images SDK in embedded mode: order, draws on pixels, inputs, limits, clear errors."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pyvips

from conftest import read_photo
from focal import Images
from focal.errors import ErrorKind, FocalError, OptionError
from focal.options import parse_options
from focal.pipeline import OutputSpec, run, url_operations
from focal.pipeline.flat_chain import FlatChain
from imaging import decode, gradient, jpeg, png

GREY = [128, 128, 128]
RED = [255, 0, 0]


def flat(width: int, height: int, colour: list[int], alpha: int | None = None) -> bytes:
    image = (pyvips.Image.black(width, height, bands=3) + colour).cast("uchar")
    if alpha is not None:
        image = image.bandjoin_const([alpha])
    return png(image.copy(interpretation="srgb"))


def pixel(data: bytes, x: int, y: int) -> list[float]:
    return [float(value) for value in decode(data).getpoint(x, y)]


@pytest.fixture
def images() -> Images:
    return Images()


# --- order -------------------------------------------------------------------------------


def test_transforms_run_in_the_order_chained(images: Images) -> None:
    cat = read_photo("chelsea")  # 451×300
    rotate_first = images.input(cat).transform(rotate=90).transform(width=100)
    resize_first = images.input(cat).transform(width=100).transform(rotate=90)
    a = rotate_first.output(format="image/png")
    b = resize_first.output(format="image/png")
    assert (a.width, a.height) == (100, 150)  # 300×451 after the turn, then 100 wide
    assert (b.width, b.height) == (67, 100)  # 100×67 first, then turned
    assert (decode(a.bytes()).width, decode(b.bytes()).width) == (100, 67)


def test_one_transform_node_keeps_the_url_order_and_bytes(images: Images) -> None:
    cat = read_photo("chelsea")
    options = "width=120,rotate=90,blur=2,fit=scale-down"
    expected = run(cat, url_operations(parse_options(options)), OutputSpec(format="webp"))
    result = images.input(cat).transform(width=120, rotate=90, blur=2).output(format="webp")
    assert result.bytes() == expected.data
    assert result.content_type == "image/webp"


# --- draw on pixels ----------------------------------------------------------------------


def test_draw_bottom_right_in_pixels(images: Images) -> None:
    result = (
        images.input(flat(200, 100, GREY))
        .draw(images.input(flat(20, 10, RED)), bottom=10, right=10)
        .output(format="image/png")
    )
    assert (result.width, result.height) == (200, 100)
    assert pixel(result.bytes(), 170, 80) == RED  # its top-left: 200-10-20, 100-10-10
    assert pixel(result.bytes(), 189, 89) == RED
    assert pixel(result.bytes(), 190, 89) == GREY
    assert pixel(result.bytes(), 169, 80) == GREY
    assert pixel(result.bytes(), 189, 90) == GREY
    assert decode(result.bytes()).bands == 3  # an opaque base stays opaque


def test_draw_top_left_and_centred(images: Images) -> None:
    base, mark = flat(200, 100, GREY), flat(20, 10, RED)
    placed = images.input(base).draw(mark, top=5, left=7).output(format="png").bytes()
    assert pixel(placed, 7, 5) == RED and pixel(placed, 6, 5) == GREY
    assert pixel(placed, 7, 4) == GREY
    centred = images.input(base).draw(mark).output(format="png").bytes()
    assert pixel(centred, 90, 45) == RED and pixel(centred, 109, 54) == RED
    assert pixel(centred, 89, 45) == GREY and pixel(centred, 110, 54) == GREY


def test_opacity_scales_the_overlay(images: Images) -> None:
    result = images.input(flat(50, 50, GREY)).draw(flat(50, 50, RED), opacity=0.5)
    red, green, blue = pixel(result.output(format="png").bytes(), 25, 25)
    assert red == pytest.approx(191, abs=2)  # half of 255 over half of 128
    assert green == pytest.approx(64, abs=2) and blue == pytest.approx(64, abs=2)


@pytest.mark.parametrize(
    ("repeat", "red_at", "grey_at"),
    [
        ("x", [(0, 3), (199, 3), (100, 9)], [(100, 10), (0, 99)]),
        ("y", [(7, 0), (7, 99), (26, 50)], [(27, 50), (199, 0)]),
        (True, [(0, 0), (199, 99), (100, 50)], []),
    ],
)
def test_repeat_tiles_across(
    images: Images,
    repeat: bool | str,
    red_at: list[tuple[int, int]],
    grey_at: list[tuple[int, int]],
) -> None:
    # A 20×10 mark at left 7, top 0: tiles continue edge to edge from there.
    base, mark = flat(200, 100, GREY), flat(20, 10, RED)
    result = images.input(base).draw(mark, top=0, left=7, repeat=repeat)  # type: ignore[arg-type]
    data = result.output(format="png").bytes()
    for x, y in red_at:
        assert pixel(data, x, y) == RED, (x, y)
    for x, y in grey_at:
        assert pixel(data, x, y) == GREY, (x, y)


def test_composite_modes(images: Images) -> None:
    base, half_red = flat(40, 40, GREY), flat(20, 20, RED, alpha=128)

    def drawn(mode: str) -> pyvips.Image:
        data = images.input(base).draw(half_red, top=0, left=0, composite=mode)
        return decode(data.output(format="png").bytes())

    over, atop, lighter = drawn("over"), drawn("atop"), drawn("lighter")
    assert over.bands == atop.bands == lighter.bands == 3
    assert over.getpoint(5, 5) == pytest.approx([191, 64, 64], abs=2)
    assert atop.getpoint(5, 5) == over.getpoint(5, 5)
    assert lighter.getpoint(5, 5) == pytest.approx([255, 128, 128], abs=1)  # colours added
    assert over.getpoint(30, 30) == lighter.getpoint(30, 30) == GREY
    inside, outside, either = drawn("in"), drawn("out"), drawn("xor")
    assert inside.getpoint(5, 5)[3] == pytest.approx(128, abs=1)  # overlay only where base
    assert inside.getpoint(30, 30)[3] == 0
    assert outside.getpoint(5, 5)[3] == 0 and outside.getpoint(30, 30)[3] == 0  # base opaque
    assert either.getpoint(5, 5)[3] == pytest.approx(127, abs=1)
    assert either.getpoint(30, 30)[3] == 255


def test_background_behind_the_overlay_and_later_draws_on_top(images: Images) -> None:
    clear = flat(10, 10, RED, alpha=0)
    behind = images.input(flat(30, 30, GREY)).draw(clear, background="blue")
    assert pixel(behind.output(format="png").bytes(), 15, 15) == [0, 0, 255]
    stacked = (
        images.input(flat(30, 30, GREY)).draw(flat(10, 10, RED)).draw(flat(10, 10, [0, 255, 0]))
    )
    assert pixel(stacked.output(format="png").bytes(), 15, 15) == [0, 255, 0]


def test_overlay_chain_is_transformed_first(images: Images) -> None:
    mark = images.input(flat(40, 20, RED)).transform(width=10)  # 10×5
    data = images.input(flat(100, 100, GREY)).draw(mark, top=0, left=0)
    result = data.output(format="png").bytes()
    assert pixel(result, 9, 4) == RED
    assert pixel(result, 10, 4) == GREY and pixel(result, 9, 5) == GREY


def test_draw_on_every_frame_of_an_animation(images: Images) -> None:
    from imaging import animated, coloured_frames

    gif = animated(coloured_frames(30, 30, 3))
    result = images.input(gif).draw(flat(10, 10, [255, 255, 255]), top=0, left=0)
    frames = decode(result.output(format="image/gif").bytes(), all_frames=True)
    assert frames.get("n-pages") == 3
    for index in range(3):
        assert frames.getpoint(2, index * 30 + 2)[:3] == [255, 255, 255]


# --- chains are data ---------------------------------------------------------------------


def test_a_chain_flattens_to_json_and_back(images: Images) -> None:
    chain = (
        images.input(b"base")
        .transform(trim="10;0;10;0", rotate=90, width=100, fit="cover", gravity="face", zoom=0.4)
        .draw(images.input(b"mark").transform(width=10, background="#ff000080"), repeat="x")
        .transform(brightness=1.2, blur=3, sharpen=1, flip="h")
        .draw(b"other", bottom=3, left=4, opacity=0.3, composite="xor")
    )
    flat_chain, inputs = chain.flat_chain("image/avif", 60, False)
    document = json.loads(json.dumps(flat_chain.to_json()))
    assert FlatChain.from_json(document) == flat_chain
    assert [source.data() for source in inputs] == [b"base", b"mark", b"other"]
    draws = [op for op in document["operations"] if op["op"] == "draw"]
    assert [draw["input"] for draw in draws] == [1, 2]
    assert document["output"] == {"format": "avif", "quality": 60, "anim": False}


# --- errors before any work -------------------------------------------------------------

NOT_AN_IMAGE = b"these bytes are never decoded"


def test_draw_with_both_sides_is_refused_at_once(images: Images) -> None:
    chain = images.input(NOT_AN_IMAGE)
    with pytest.raises(OptionError, match="left or right"):
        chain.draw(NOT_AN_IMAGE, left=1, right=1)
    with pytest.raises(OptionError, match="top or bottom"):
        chain.draw(NOT_AN_IMAGE, top=1, bottom=1)
    with pytest.raises(OptionError, match="opacity"):
        chain.draw(NOT_AN_IMAGE, opacity=1.5)
    with pytest.raises(OptionError, match="composite"):
        chain.draw(NOT_AN_IMAGE, composite="multiply")


def test_output_needs_a_format(images: Images) -> None:
    with pytest.raises(OptionError, match="needs a format"):
        images.input(NOT_AN_IMAGE).transform(width=10).output()
    with pytest.raises(OptionError, match="cannot be written"):
        images.input(NOT_AN_IMAGE).output(format="image/svg+xml")
    with pytest.raises(OptionError, match="quality"):
        images.input(NOT_AN_IMAGE).output(format="webp", quality=0)


def test_unknown_or_misplaced_options_are_refused(images: Images) -> None:
    with pytest.raises(OptionError, match="unknown option 'widht'"):
        images.input(NOT_AN_IMAGE).transform(widht=100)
    with pytest.raises(OptionError, match="output"):
        images.input(NOT_AN_IMAGE).transform(format="webp")
    with pytest.raises(OptionError, match="width=auto"):
        images.input(NOT_AN_IMAGE).transform(width="auto")


def test_an_image_error_is_the_url_forms_error(images: Images) -> None:
    with pytest.raises(FocalError) as caught:
        images.input(NOT_AN_IMAGE).transform(width=10).output(format="webp")
    assert caught.value.kind is ErrorKind.NOT_AN_IMAGE


# --- inputs and limits -------------------------------------------------------------------


def test_inputs_of_every_kind_give_the_same_image(images: Images, tmp_path: Path) -> None:
    data = jpeg(gradient(64, 48))
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)

    def chunks() -> Iterator[bytes]:
        yield data[:100]
        yield data[100:]

    expected = images.input(data).transform(width=32).output(format="png").bytes()
    for source in (path, str(path), io.BytesIO(data), chunks(), bytearray(data)):
        assert images.input(source).transform(width=32).output(format="png").bytes() == expected


def test_async_forms(images: Images) -> None:
    data = jpeg(gradient(64, 48))

    async def stream() -> AsyncIterator[bytes]:
        yield data[:10]
        yield data[10:]

    async def main() -> tuple[bytes, int]:
        result = await images.input(stream()).transform(width=32).output_async(format="png")
        info = await images.info_async(data)
        return result.bytes(), info.width

    got, width = asyncio.run(main())
    assert got == images.input(data).transform(width=32).output(format="png").bytes()
    assert width == 64
    with pytest.raises(FocalError, match="output_async"):
        images.input(stream()).output(format="png")


def test_oversize_inputs_are_refused_before_being_read_whole(tmp_path: Path) -> None:
    images = Images(max_input_bytes=1000)
    with pytest.raises(FocalError) as caught:
        images.input(b"x" * 1001)
    assert caught.value.kind is ErrorKind.SOURCE_TOO_LARGE
    big = tmp_path / "big.jpg"
    with big.open("wb") as handle:  # sparse: the size is known without any byte read
        handle.truncate(21 * 1024 * 1024)
    with pytest.raises(FocalError, match="limit is 20,971,520 bytes"):
        Images().input(big)
    pulled: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            pulled.append(400)
            yield b"x" * 400

    with pytest.raises(FocalError, match="limit is 1,000 bytes"):
        images.input(endless())
    assert len(pulled) == 3  # stopped at the first chunk past the limit

    class Counting(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.reads += 1
            return b"x" * 600

    handle = Counting()
    with pytest.raises(FocalError):
        images.input(handle)
    assert handle.reads == 2


# --- info and results --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("saver", "media_type"),
    [
        ("jpegsave_buffer", "image/jpeg"),
        ("pngsave_buffer", "image/png"),
        ("webpsave_buffer", "image/webp"),
        ("gifsave_buffer", "image/gif"),
        ("heifsave_buffer", "image/avif"),
        ("tiffsave_buffer", "image/tiff"),
    ],
)
def test_info_on_each_format(images: Images, saver: str, media_type: str) -> None:
    options = {"compression": "av1"} if saver == "heifsave_buffer" else {}
    data = bytes(getattr(gradient(64, 48), saver)(**options))
    info = images.info(data)
    assert (info.format, info.file_size, info.width, info.height) == (
        media_type,
        len(data),
        64,
        48,
    )


def test_result_response_is_an_asgi_response(images: Images) -> None:
    result = images.input(jpeg(gradient(64, 48))).output(format="image/webp", quality=50)
    response = result.response()
    assert response.media_type == "image/webp"
    assert response.body == result.bytes()
    assert decode(result.bytes()).width == result.width == 64


def test_faces_are_found_only_for_inputs_cropped_around_them(images: Images) -> None:
    from focal.pipeline.compose import inputs_needing_faces

    face_mark = images.input(b"mark").transform(width=10, height=10, fit="cover", gravity="face")
    chain = (
        images.input(b"base")
        .transform(width=100)
        .draw(images.input(b"plain").draw(face_mark))
        .draw(b"other")
    )
    operations, inputs = chain.flatten()
    assert [source.data() for source in inputs] == [b"base", b"plain", b"mark", b"other"]
    assert inputs_needing_faces(operations) == {2}
    base_face = images.input(b"base").transform(gravity="face", zoom=0.5).flatten()[0]
    assert inputs_needing_faces(base_face) == {0}
