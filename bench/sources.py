"""The originals the benchmark serves, laid out in a temporary origin folder."""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import pyvips

from bench.scenarios import ONE_MB, PHOTOS, TWELVE_MP

PHOTO_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "faces" / "images"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
LARGE_PHOTO = "smartcrop__nature-1.jpg"  # 4896×3264, the only large test photo
TWELVE_MP_SIZE = (4240, 2832)  # 12.0 megapixels, the aspect ratio of the photo it comes from
ONE_MB_WIDTH = 3000  # 3000×2000: 6 megapixels, as phones and web uploaders often resize to
ONE_MB_BYTES = 1_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _copy_photos(origin: Path) -> list[str]:
    folder = origin / PHOTOS
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for photo in sorted(PHOTO_DIR.iterdir()):
        if photo.suffix.lower() in PHOTO_SUFFIXES:
            shutil.copyfile(photo, folder / photo.name)
            names.append(f"{PHOTOS}/{photo.name}")
    if not names:
        raise SystemExit(f"no test photos in {PHOTO_DIR}")
    return names


def _make_twelve_mp(origin: Path) -> list[str]:
    """A real photo at exactly 12 MP, as a camera would write it (quality 90)."""
    folder = origin / TWELVE_MP
    folder.mkdir(parents=True, exist_ok=True)
    width, height = TWELVE_MP_SIZE
    image = pyvips.Image.thumbnail(str(PHOTO_DIR / LARGE_PHOTO), width, height=height, size="force")
    image.jpegsave(str(folder / "nature-12mp.jpg"), Q=90)
    return [f"{TWELVE_MP}/nature-12mp.jpg"]


def _make_one_mb(origin: Path) -> list[str]:
    """The same photo at 3000×2000, at the JPEG quality that comes closest to 1 MB."""
    folder = origin / ONE_MB
    folder.mkdir(parents=True, exist_ok=True)
    image = pyvips.Image.thumbnail(str(PHOTO_DIR / LARGE_PHOTO), ONE_MB_WIDTH).copy_memory()
    encoded = (image.jpegsave_buffer(Q=quality) for quality in range(70, 99))
    data: bytes = min(encoded, key=lambda each: abs(len(each) - ONE_MB_BYTES))
    (folder / "nature-1mb.jpg").write_bytes(data)
    return [f"{ONE_MB}/nature-1mb.jpg"]


BUILDERS = {PHOTOS: _copy_photos, TWELVE_MP: _make_twelve_mp, ONE_MB: _make_one_mb}


def prepare(origin: Path, sets: set[str]) -> dict[str, list[str]]:
    """Build the source sets asked for; each maps to paths relative to the origin folder."""
    return {name: BUILDERS[name](origin) for name in sorted(sets)}


def with_comment(data: bytes, text: str) -> bytes:
    """The same image with a comment (JPEG: a COM segment after SOI; PNG: a tEXt chunk after
    IHDR): other bytes, the same pixels."""
    payload = text.encode()
    if data[:2] == b"\xff\xd8":
        return data[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]
    if data[:8] == PNG_SIGNATURE:
        body = b"tEXt" + b"Comment\x00" + payload
        chunk = (len(body) - 4).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
        after_header = 8 + 8 + 13 + 4  # signature, IHDR's length and type, its data, its CRC
        return data[:after_header] + chunk + data[after_header:]
    raise ValueError("neither a JPEG nor a PNG")


def unique_copies(origin: Path, paths: list[str], count: int, tag: str) -> list[str]:
    """`count` distinct originals cycling over `paths`, for measurements that must miss caches."""
    folder = origin / "unique" / tag
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for index in range(count):
        source = origin / paths[index % len(paths)]
        target = folder / f"{index:05d}{source.suffix}"
        target.write_bytes(with_comment(source.read_bytes(), f"focal-bench {tag} {index}"))
        copies.append(target.relative_to(origin).as_posix())
    return copies
