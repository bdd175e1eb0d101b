"""Whole faces: when the crop cannot hold every face, the most are kept whole and none is cut.

On the labelled group photo (five faces) at extreme aspect ratios, with each labelled face
marked at its four corners: a face lies fully inside the crop exactly when all four of its
marks survive it.
"""

from __future__ import annotations

import pytest

from face_marks import GROUP, corners_kept, labelled, marked
from focal.options import parse_options
from focal.pipeline import Box, OutputSpec, run, url_operations
from focal.pipeline.whole_faces import keep_faces_whole, placement


@pytest.fixture(scope="module")
def group() -> tuple[bytes, tuple[Box, ...]]:
    data, faces = labelled(GROUP)
    return marked(data, faces), faces


def _crop(data: bytes, faces: tuple[Box, ...], options: str) -> bytes:
    ops = url_operations(parse_options(options))
    return run(data, ops, OutputSpec(format="png"), faces=faces).data


@pytest.mark.parametrize("zoom", [0.0, 0.5, 1.0])
def test_banner_keeps_the_four_faces_of_the_row_whole(
    group: tuple[bytes, tuple[Box, ...]], zoom: float
) -> None:
    data, faces = group
    out = _crop(data, faces, f"w=900,h=200,fit=cover,gravity=face,zoom={zoom}")
    # 222 px of the original's height: the row of four (220..434) fits, the face at the back
    # (62..166) does not fit with them and is left out whole rather than cut.
    assert corners_kept(out, faces) == [0, 4, 4, 4, 4]


def test_tall_strip_keeps_the_largest_face_and_cuts_none(
    group: tuple[bytes, tuple[Box, ...]],
) -> None:
    data, faces = group
    out = _crop(data, faces, "w=200,h=900,fit=cover,gravity=face")
    # 148 px of the original's width holds one face: the largest, the rightmost, and no
    # other face is shown in part.
    assert corners_kept(out, faces) == [0, 0, 0, 0, 4]


def test_the_seed_cut_stands_when_it_holds_every_face(
    group: tuple[bytes, tuple[Box, ...]],
) -> None:
    data, faces = group
    out = _crop(data, faces, "w=600,h=300,fit=cover,gravity=face")
    assert corners_kept(out, faces) == [4, 4, 4, 4, 4]


def test_rotated_group_in_a_banner(group: tuple[bytes, tuple[Box, ...]]) -> None:
    # Turned a quarter, the group stands in a column: a banner now holds one face whole.
    data, faces = group
    out = _crop(data, faces, "rotate=90,w=900,h=200,fit=cover,gravity=face")
    assert corners_kept(out, faces) == [0, 0, 0, 0, 4]


# --- the placement rules on plain rectangles -----------------------------------------------


def test_the_seed_placement_is_kept_when_it_holds_every_face() -> None:
    faces = [Box(10, 10, 20, 20), Box(50, 10, 20, 20)]
    assert keep_faces_whole((100, 40), (80, 40), faces, (5, 0)) == (5, 0)


def test_no_face_fits_whole_keeps_the_seed_placement() -> None:
    faces = [Box(0, 0, 90, 30)]
    assert keep_faces_whole((100, 40), (50, 40), faces, (20, 0)) == (20, 0)


def test_a_clean_cut_wins_over_one_more_face_shown_in_part() -> None:
    # Three faces in a row, 60 px apart; a cut of 50 px holds one whole.
    faces = [Box(0, 0, 40, 10), Box(60, 0, 40, 10), Box(120, 0, 40, 10)]
    left, _ = keep_faces_whole((160, 10), (50, 10), faces, (55, 0))
    found = placement((left, 0), (50, 10), faces)
    assert len(found.whole) == 1 and found.cut_through == 0


def test_the_most_faces_then_the_largest() -> None:
    small = [Box(0, 0, 10, 10), Box(12, 0, 10, 10)]  # two small faces side by side
    large = Box(60, 0, 20, 20)  # one larger face alone
    found = keep_faces_whole((100, 20), (24, 20), [*small, large], (40, 0))
    assert placement(found, (24, 20), [*small, large]).whole == (0, 1)
    twins = [Box(0, 0, 10, 10), Box(60, 0, 20, 20)]
    found = keep_faces_whole((100, 20), (24, 20), twins, (30, 0))
    assert placement(found, (24, 20), twins).whole == (1,)


def test_the_kept_faces_are_centred_in_the_cut_when_room_allows() -> None:
    faces = [Box(40, 0, 20, 10), Box(200, 0, 40, 10)]
    found = keep_faces_whole((300, 10), (60, 10), faces, (0, 0))
    assert found == (190, 0)  # the larger face, 200..240, in the middle of 190..250


def test_of_two_alike_faces_the_one_nearer_the_seed() -> None:
    faces = [Box(40, 0, 20, 10), Box(200, 0, 20, 10)]
    assert keep_faces_whole((300, 10), (60, 10), faces, (150, 0)) == (180, 0)
    assert keep_faces_whole((300, 10), (60, 10), faces, (60, 0)) == (20, 0)


def test_without_faces_the_seed_placement_stands() -> None:
    assert keep_faces_whole((100, 40), (50, 40), [], (20, 0)) == (20, 0)
