"""Where a cut goes when it cannot hold every face: keep the most faces whole, cut none.

The seed's rule (centre the cut on the outer box of all faces) is kept whenever its cut holds
every face whole. When it does not (a 900×200 banner of a group photo), the cut is moved to
the placement that, in this order of preference:

1. keeps at least one face whole, if any placement can;
2. cuts through no face (a face is either whole or wholly outside), if any such placement
   keeps a face whole;
3. keeps the most faces whole;
4. cuts through the fewest faces;
5. keeps the largest faces whole (their areas compared largest first);
6. lies nearest the seed's placement (which faces, when two sets rank alike), and then
   nearest the cut centred on the faces it keeps.

Only sizes and rectangles here, so every rule can be checked exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from focal.pipeline.geometry import Box, center_on

# Candidate cuts come from the edges of this many faces at most, the largest: a crowd of
# hundreds of tiny faces costs no more than a group photo.
MOST_FACES_PLACED = 48
# A face box is in floating-point pixels; a cut at whole pixels holds it when it reaches this
# close to the face's edges (rounding of the scale, not a margin).
_EDGE = 1e-6


@dataclass(frozen=True)
class Placement:
    """How one cut position treats the faces."""

    offset: tuple[int, int]
    whole: tuple[int, ...]  # indexes of the faces the cut holds whole
    cut_through: int  # faces the cut shows only part of

    def rank(self, areas: Sequence[float]) -> tuple[object, ...]:
        """Larger is better: the order of preference in the module's docstring."""
        kept = len(self.whole)
        clean = kept > 0 and self.cut_through == 0
        largest = tuple(sorted((areas[index] for index in self.whole), reverse=True))
        return (kept > 0, clean, kept, -self.cut_through, largest)


def _holds(offset: int, cut: int, start: float, end: float) -> bool:
    return offset <= start + _EDGE and end <= offset + cut + _EDGE


def _overlaps(offset: int, cut: int, start: float, end: float) -> bool:
    return start < offset + cut - _EDGE and end > offset + _EDGE


def placement(offset: tuple[int, int], cut: tuple[int, int], faces: Sequence[Box]) -> Placement:
    """Which faces a cut of size `cut` at `offset` holds whole, and how many it cuts through."""
    (left, top), (cut_w, cut_h) = offset, cut
    whole: list[int] = []
    cut_through = 0
    for index, face in enumerate(faces):
        inside_x = _holds(left, cut_w, face.left, face.right)
        inside_y = _holds(top, cut_h, face.top, face.bottom)
        if inside_x and inside_y:
            whole.append(index)
        elif _overlaps(left, cut_w, face.left, face.right) and _overlaps(
            top, cut_h, face.top, face.bottom
        ):
            cut_through += 1
    return Placement(offset, tuple(whole), cut_through)


def _candidates(size: int, cut: int, spans: Sequence[tuple[float, float]], seed: int) -> set[int]:
    """Offsets on one axis worth trying: each face's edge at either edge of the cut."""
    if cut >= size:
        return {0}
    found = {seed, 0, size - cut}
    for start, end in spans:
        # The face at the cut's start or end edge, or the cut ending or starting just
        # beside it (holding it, or leaving it wholly outside).
        found.update(
            (
                math.floor(start + _EDGE),
                math.ceil(end - cut - _EDGE),
                math.ceil(end - _EDGE),
                math.floor(start - cut + _EDGE),
            )
        )
    return {max(0, min(size - cut, offset)) for offset in found}


def _centred_on_kept(
    size: tuple[int, int], cut: tuple[int, int], faces: Sequence[Box], kept: Sequence[int]
) -> tuple[int, int]:
    """The offset that centres the cut on the outer box of the faces it keeps."""
    chosen = [faces[index] for index in kept]
    left = min(face.left for face in chosen)
    right = max(face.right for face in chosen)
    top = min(face.top for face in chosen)
    bottom = max(face.bottom for face in chosen)
    return (
        center_on(size[0], cut[0], (left + right) / 2),
        center_on(size[1], cut[1], (top + bottom) / 2),
    )


def keep_faces_whole(
    size: tuple[int, int],
    cut: tuple[int, int],
    faces: Sequence[Box],
    seed: tuple[int, int],
) -> tuple[int, int]:
    """The top-left corner of a cut of `cut` out of `size`: `seed` (the seed's placement)
    when it holds every face whole, else the best placement for the faces."""
    if not faces:
        return seed
    first = placement(seed, cut, faces)
    if len(first.whole) == len(faces):
        return seed
    areas = [face.width * face.height for face in faces]
    placed = sorted(faces, key=lambda face: face.width * face.height, reverse=True)
    placed = placed[:MOST_FACES_PLACED]
    xs = _candidates(size[0], cut[0], [(face.left, face.right) for face in placed], seed[0])
    ys = _candidates(size[1], cut[1], [(face.top, face.bottom) for face in placed], seed[1])
    tried = [first, *(placement((x, y), cut, faces) for x in sorted(xs) for y in sorted(ys))]

    def away(found: Placement, target: tuple[int, int]) -> float:
        return math.hypot(found.offset[0] - target[0], found.offset[1] - target[1])

    # Of equally good placements, the one nearest the seed's: its faces, if a tie.
    best = max(tried, key=lambda found: (found.rank(areas), -away(found, seed)))
    if not best.whole:
        return seed  # no face fits whole anywhere: the seed's placement stands
    ideal = _centred_on_kept(size, cut, faces, best.whole)
    tried.append(placement(ideal, cut, faces))
    same = [
        found
        for found in tried
        if found.whole == best.whole and found.rank(areas) == best.rank(areas)
    ]
    return min(same, key=lambda found: away(found, ideal)).offset
