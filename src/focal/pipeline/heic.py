"""HEIC/HEIF originals (what phones write), decoded by libheif through pillow-heif.

The libvips bundled with pyvips-binary reads a HEIC's header (so `probe` checks the limits
before anything decodes) but has no HEVC decoder for its pixels; pillow-heif ships one.
libheif applies the image's rotation and mirroring (its `irot`/`imir` properties, which
is where HEIF keeps the orientation a phone records) while it decodes, as libvips does for
the header: sizes agree. A file holding several images (bursts, edits) is its primary one.
"""

from __future__ import annotations

import io

import pyvips

from focal.pipeline.source import SourceInfo, incomplete

HEIC_FORMATS = ("image/heic",)
_BANDS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


def needs_heif_decoder(source: SourceInfo) -> bool:
    """Whether libvips cannot decode this original's pixels itself."""
    return source.format in HEIC_FORMATS


def decode_heic(data: bytes) -> pyvips.Image:
    """The primary image's pixels (8 bits per sample), upright, with its ICC profile.

    Decoded whole: HEVC has no shrink-on-load, so memory is bounded by the limits `probe`
    checked from the header (max_pixels × 4 bytes at most).
    """
    import pillow_heif  # 8 MB with Pillow: loaded by the first HEIC, not by every process

    try:
        container = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        picture = container[container.primary_index].to_pillow()
        if picture.mode not in _BANDS:
            picture = picture.convert("RGBA" if "A" in picture.mode else "RGB")
        pixels = picture.tobytes()
    except (ValueError, RuntimeError, OSError) as error:  # libheif's decoding errors
        raise incomplete(f"HEIC: {error}") from None
    bands = _BANDS[picture.mode]
    image = pyvips.Image.new_from_memory(pixels, picture.width, picture.height, bands, "uchar")
    image = image.copy(interpretation="b-w" if bands < 3 else "srgb")
    profile = picture.info.get("icc_profile")
    if profile:
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", bytes(profile))
    return image
