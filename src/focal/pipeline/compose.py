"""Running a chain of operations over several images: the base and the overlays drawn on it.

Each draw names one of the chain's inputs and the operations that make the overlay from it;
overlays are rendered first (lazily, as libvips does) and bound to their draw, then the base
runs through the one executor like any other operation list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from focal.errors import ErrorKind, FocalError
from focal.pipeline.deadline import Deadline
from focal.pipeline.executor import Output, OutputSpec, render, run
from focal.pipeline.geometry import Box
from focal.pipeline.operations import DrawOp, Operation
from focal.pipeline.source import Limits, SourceInfo, probe

Faces = tuple[Box, ...] | None


def _chains(
    operations: Sequence[Operation], input_index: int = 0
) -> Iterator[tuple[int, Sequence[Operation]]]:
    """Each input with the operations run on it: the base's, then every draw's, nested."""
    yield input_index, operations
    for op in operations:
        if isinstance(op, DrawOp):
            yield from _chains(op.operations, op.input)


def inputs_needing_faces(operations: Sequence[Operation]) -> set[int]:
    """The inputs whose faces must be found before running: cropped by them, or hiding them."""
    return {index for index, chain in _chains(operations) if any(op.needs_faces for op in chain)}


def probe_inputs(inputs: Sequence[bytes], limits: Limits) -> list[SourceInfo]:
    """Every input's header, checked against the limits: before any decode or detection."""
    return [probe(data, limits) for data in inputs]


def _bind(
    operations: Sequence[Operation],
    inputs: Sequence[bytes],
    faces: Sequence[Faces],
    sources: Sequence[SourceInfo],
    limits: Limits,
    deadline: Deadline,
) -> list[Operation]:
    bound: list[Operation] = []
    for op in operations:
        if isinstance(op, DrawOp):
            if op.input >= len(inputs):
                raise FocalError(
                    ErrorKind.BAD_REQUEST,
                    f"draw uses input {op.input}, but the request has {len(inputs)} input(s)",
                )
            overlay_ops = _bind(op.operations, inputs, faces, sources, limits, deadline)
            overlay = render(
                inputs[op.input],
                overlay_ops,
                faces=faces[op.input],
                limits=limits,
                source=sources[op.input],
                deadline=deadline,
            )
            op = replace(op, overlay=overlay)
        bound.append(op)
    return bound


def run_composed(
    inputs: Sequence[bytes],
    operations: Sequence[Operation],
    output: OutputSpec,
    *,
    faces: Sequence[Faces] | None = None,
    limits: Limits | None = None,
    sources: Sequence[SourceInfo] | None = None,
) -> Output:
    """Transform inputs[0] by `operations`, drawing the other inputs where they say.

    `sources`: the inputs' `probe_inputs`, when the caller checked them already. One
    deadline (`limits.transform_timeout`) covers the overlays and the base.
    """
    if not inputs:
        raise FocalError(ErrorKind.BAD_REQUEST, "a chain needs at least one input image")
    limits = limits or Limits()
    sources = list(sources) if sources is not None else probe_inputs(inputs, limits)
    deadline = Deadline(limits.transform_timeout)
    faces = list(faces) if faces is not None else [None] * len(inputs)
    bound = _bind(operations, inputs, faces, sources, limits, deadline)
    return run(
        inputs[0],
        bound,
        output,
        source=sources[0],
        faces=faces[0],
        limits=limits,
        deadline=deadline,
    )
