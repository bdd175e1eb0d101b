"""Images made for the tests with pyvips, and ways to look at results."""

from __future__ import annotations

import io
import struct

import pillow_heif
import pyvips
from PIL import Image


def gradient(width: int, height: int) -> pyvips.Image:
    """An sRGB image whose every region is distinct: red grows left to right, green top to
    bottom, and blue is a diagonal ramp; a crop at a wrong offset shows in every pixel."""
    x = pyvips.Image.xyz(width, height)[0]
    y = pyvips.Image.xyz(width, height)[1]
    red = x * (255 / max(1, width - 1))
    green = y * (255 / max(1, height - 1))
    blue = (x + y) * (255 / max(1, width + height - 2))
    image = red.bandjoin([green, blue]).cast("uchar")
    return image.copy(interpretation="srgb")


def textured(width: int, height: int) -> pyvips.Image:
    """A gradient with fine detail on it (a 4-px checkerboard), for blur and sharpen."""
    x = pyvips.Image.xyz(width, height)[0]
    y = pyvips.Image.xyz(width, height)[1]
    checker = (((x / 4).floor() + (y / 4).floor()) % 2) * 60 - 30
    image = (gradient(width, height).cast("float") * 0.7 + 40 + checker).cast("uchar")
    return image.copy(interpretation="srgb")


def png(image: pyvips.Image) -> bytes:
    return bytes(image.pngsave_buffer(compression=1))


def jpeg(image: pyvips.Image, quality: int = 95) -> bytes:
    return bytes(image.jpegsave_buffer(Q=quality))


def animated(frames: list[pyvips.Image], saver: str = "gifsave_buffer") -> bytes:
    """An animation from equal-sized frames (GIF by default, or 'webpsave_buffer')."""
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", frames[0].height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [100] * len(frames))
    strip.set_type(pyvips.GValue.gint_type, "loop", 0)
    return bytes(getattr(strip, saver)())


def coloured_frames(width: int, height: int, count: int) -> list[pyvips.Image]:
    """Frames of distinct flat colours, so that each frame can be told apart."""
    colours = [[220, 30, 30], [30, 200, 30], [30, 30, 220], [220, 220, 30], [30, 220, 220]]
    frames = []
    for index in range(count):
        frame = pyvips.Image.black(width, height, bands=3) + colours[index % len(colours)]
        frames.append(frame.cast("uchar").copy(interpretation="srgb"))
    return frames


def decode(data: bytes, *, all_frames: bool = False) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "n=-1" if all_frames else "")


def rgb(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB without alpha, so that two results can be compared pixel by pixel."""
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.bands < 3 or image.interpretation not in ("srgb", "rgb"):
        image = image.colourspace("srgb")
    return image.cast("uchar")


def mean_abs_diff(a: pyvips.Image, b: pyvips.Image) -> float:
    """Mean absolute difference per pixel and band, 0-255; the images must be the same size."""
    assert (a.width, a.height) == (b.width, b.height), (a.width, a.height, b.width, b.height)
    return float((rgb(a).cast("float") - rgb(b).cast("float")).abs().avg())


LAPLACIAN = [[0, -1, 0], [-1, 4, -1], [0, -1, 0]]


def detail(image: pyvips.Image) -> float:
    """High-frequency energy: the mean absolute Laplacian of the lightness."""
    grey = rgb(image).colourspace("b-w").cast("float")
    mask = pyvips.Image.new_from_array(LAPLACIAN)
    return float(grey.conv(mask, precision="float").abs().avg())


def band_means(image: pyvips.Image) -> list[float]:
    return [float(image.extract_band(band).avg()) for band in range(image.bands)]


def region_colour(image: pyvips.Image, left: int, top: int, size: int = 6) -> list[float]:
    """Mean colour of a small square, for finding a marked corner."""
    return band_means(rgb(image).crop(left, top, size, size))


def corner_colours(image: pyvips.Image, size: int = 6) -> dict[str, list[float]]:
    w, h = image.width, image.height
    return {
        "top-left": region_colour(image, 0, 0, size),
        "top-right": region_colour(image, w - size, 0, size),
        "bottom-left": region_colour(image, 0, h - size, size),
        "bottom-right": region_colour(image, w - size, h - size, size),
    }


def marked(width: int, height: int, corner_size: int = 20) -> pyvips.Image:
    """A grey image with a red square in its top-left corner and a blue bar along its top."""
    image = pyvips.Image.black(width, height, bands=3) + [128, 128, 128]
    image = image.draw_rect([0, 0, 255], 0, 0, width, 4, fill=True)
    image = image.draw_rect([255, 0, 0], 0, 0, corner_size, corner_size, fill=True)
    return image.cast("uchar").copy(interpretation="srgb")


def red_corner(image: pyvips.Image) -> str:
    """Which corner of an image made by `marked` the red square ended up in."""

    def redness(colour: list[float]) -> float:
        return colour[0] - (colour[1] + colour[2]) / 2

    corners = corner_colours(image)
    best = max(corners, key=lambda name: redness(corners[name]))
    assert redness(corners[best]) > 150, corners
    return best


def header_only_jpeg(jpeg: bytes, width: int, height: int) -> bytes:
    """`jpeg`'s headers with the frame size changed and no scan data: a bomb that costs
    nothing to send and, decoded, a whole canvas of that size."""
    data = bytearray(jpeg)
    at = 2  # after SOI: walk the segments (an EXIF thumbnail has SOF markers of its own)
    while True:
        marker, length = data[at + 1], struct.unpack_from(">H", data, at + 2)[0]
        if marker in (0xC0, 0xC1, 0xC2):
            struct.pack_into(">HH", data, at + 5, height, width)
        if marker == 0xDA:  # start of scan: keep its header, none of its data
            return bytes(data[: at + 2 + length])
        at += 2 + length


# --- HEIC, as phones write it (pillow-heif encodes HEVC) -------------------------------------


def pillow_of(data: bytes) -> Image.Image:
    """An encoded image as an RGB Pillow image."""
    return Image.open(io.BytesIO(data)).convert("RGB")


def heic(*pictures: Image.Image, orientation: int = 1) -> bytes:
    """A HEIC of the pictures (the first is the primary), the first tagged with `orientation`
    in its EXIF, as a phone tags a photo taken sideways."""
    container = pillow_heif.from_pillow(pictures[0])
    for picture in pictures[1:]:
        container.add_from_pillow(picture)
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    out = io.BytesIO()
    container.save(out, quality=90, exif=exif.tobytes())
    return out.getvalue()
