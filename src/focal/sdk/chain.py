"""The chain a caller builds: input → transform → draw → … → output, as a tree of nodes.

Each `transform()` is a node holding its operations (the URL form's for those options, in
the URL's order); each `draw()` holds another chain, a subtree. Nodes run in the order they
were chained. `flatten()` turns the tree into one list of operations plus the list of
input images the draws refer to by index. Every check happens while chaining, before any
image work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from focal.errors import OptionError
from focal.options import options_from_mapping
from focal.options.model import DEFAULTS
from focal.pipeline.flat_chain import FlatChain, output_spec
from focal.pipeline.operations import MAX_INPUTS, DrawOp, Operation
from focal.pipeline.url_order import url_operations
from focal.sdk.inputs import AnySource, ImageInput
from focal.sdk.result import Result

if TYPE_CHECKING:
    from focal.sdk.images import Images

# URL options that say how to write the result: in a chain they belong to output().
_OUTPUT_OPTIONS = (
    "format",
    "quality",
    "slow_connection_quality",
    "compression",
    "anim",
    "metadata",
    "onerror",
)


def transform_operations(options: Mapping[str, Any]) -> tuple[Operation, ...]:
    """One transform node's operations, the options checked as a URL's are."""
    parsed = options_from_mapping(options)
    misplaced = [
        name for name in _OUTPUT_OPTIONS if getattr(parsed, name) != getattr(DEFAULTS, name)
    ]
    if misplaced:
        raise OptionError(
            f"transform() does not take {', '.join(misplaced)}: say how to write the result "
            "in output(format=..., quality=..., anim=...)"
        )
    return tuple(url_operations(parsed))


def draw_template(placement: Mapping[str, Any]) -> DrawOp:
    """A draw with its placement checked; which input it draws is filled in by flatten()."""
    checked = {
        key: DrawOp.parameters[key].from_json(f"draw {key}", value)
        for key, value in placement.items()
    }
    return DrawOp(input=0, **checked)


@dataclass(frozen=True)
class TransformNode:
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class DrawNode:
    overlay: Chain
    template: DrawOp


@dataclass(frozen=True)
class Chain:
    """An immutable chain: each call returns a new one, so a chain can branch."""

    images: Images
    source: ImageInput
    nodes: tuple[TransformNode | DrawNode, ...] = ()

    def transform(self, **options: Any) -> Chain:
        """Any URL option (width=, fit=, gravity="face", zoom=, blur=, rotate=, trim=,
        face_blur=, face_pixelate=...)."""
        node = TransformNode(transform_operations(options))
        return dataclasses.replace(self, nodes=(*self.nodes, node))

    def draw(
        self,
        image: Chain | AnySource,
        *,
        top: int | None = None,
        left: int | None = None,
        bottom: int | None = None,
        right: int | None = None,
        opacity: float = 1.0,
        repeat: bool | Literal["x", "y"] = False,
        composite: str = "over",
        background: str | None = None,
    ) -> Chain:
        """Draw another chain (or a raw image) over this one; later draws are on top.

        Sides are pixels from the edges (left with right, or top with bottom, is an error;
        none on an axis centres it); `repeat` tiles it across (True), or along "x" or "y";
        `composite` is over, in, atop, out, xor or lighter.
        """
        overlay = image if isinstance(image, Chain) else self.images.input(image)
        template = draw_template(
            {
                "top": top,
                "left": left,
                "bottom": bottom,
                "right": right,
                "opacity": opacity,
                "repeat": "both" if repeat is True else (repeat or None),
                "composite": composite,
                "background": background,
            }
        )
        return dataclasses.replace(self, nodes=(*self.nodes, DrawNode(overlay, template)))

    def flatten(
        self, inputs: list[ImageInput] | None = None
    ) -> tuple[tuple[Operation, ...], list[ImageInput]]:
        """This chain's operations, and the inputs they use (this chain's own source first)."""
        inputs = [] if inputs is None else inputs
        inputs.append(self.source)
        if len(inputs) > MAX_INPUTS:
            raise OptionError(f"a chain may use at most {MAX_INPUTS} images")
        operations: list[Operation] = []
        for node in self.nodes:
            if isinstance(node, TransformNode):
                operations.extend(node.operations)
                continue
            index = len(inputs)
            overlay_operations, _ = node.overlay.flatten(inputs)
            operations.append(
                dataclasses.replace(node.template, input=index, operations=overlay_operations)
            )
        return tuple(operations), inputs

    def flat_chain(
        self, format: str | None, quality: int | str | None, anim: bool
    ) -> tuple[FlatChain, list[ImageInput]]:
        spec = output_spec(format, quality, anim)
        operations, inputs = self.flatten()
        return FlatChain(operations, spec), inputs

    def output(
        self, format: str | None = None, *, quality: int | str | None = None, anim: bool = True
    ) -> Result:
        """Run the chain and encode: `format` ("image/avif", "image/webp", ...) is required."""
        chain, inputs = self.flat_chain(format, quality, anim)
        return self.images.backend.transform([source.data() for source in inputs], chain)

    async def output_async(
        self, format: str | None = None, *, quality: int | str | None = None, anim: bool = True
    ) -> Result:
        """`output()` for async code: never blocks the event loop."""
        chain, inputs = self.flat_chain(format, quality, anim)
        data = [await source.data_async() for source in inputs]
        return await self.images.backend.transform_async(data, chain)
