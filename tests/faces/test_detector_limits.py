"""The detector refuses originals past the source limits from their header, before decoding."""

from __future__ import annotations

import pytest
import pyvips

from conftest import read_photo
from focal.errors import ErrorKind, FocalError
from focal.faces import DetectionUnavailable, DetectorPool, FaceDetector
from focal.pipeline import Limits
from imaging import header_only_jpeg

BOMB = header_only_jpeg(read_photo("biden"), 65500, 65500)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(limits=Limits(max_pixels=5_000_000, max_side=4000))


def test_an_oversized_original_is_refused_from_its_header(detector: FaceDetector) -> None:
    with pytest.raises(FocalError) as refused:
        detector.detect_bytes(BOMB)
    assert refused.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert "65500×65500" in refused.value.message


def test_the_detectors_limits_are_its_own(detector: FaceDetector) -> None:
    big = header_only_jpeg(read_photo("biden"), 3000, 2000)  # 6 MP: past this detector's 5 MP
    with pytest.raises(FocalError) as refused:
        detector.detect_bytes(big)
    assert refused.value.kind is ErrorKind.IMAGE_TOO_LARGE
    faces, width, height = detector.detect_bytes(read_photo("biden"))
    assert faces and (width, height) > (0, 0)


def test_the_worker_refuses_before_decoding() -> None:
    """A last line behind the callers' own check: the worker answers with the limit."""
    with DetectorPool(limits=Limits()) as pool:
        with pytest.raises(DetectionUnavailable) as refused:
            pool.detect_sync(BOMB)
        assert "longest side may be at most 12,000" in refused.value.reason
        assert pool.detect_sync(read_photo("biden")).faces  # and it keeps serving


def test_a_truncated_original_is_not_detected_in(detector: FaceDetector) -> None:
    """It fails to decode, as for the pipeline, instead of being read with grey in it."""
    data = read_photo("biden")
    with pytest.raises(pyvips.Error, match="premature end"):
        detector.detect_bytes(data[: len(data) * 9 // 10])
