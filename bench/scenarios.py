"""What the benchmark measures: one declaration per scenario.

A new scenario is one line in SCENARIOS. `floor` says what bare pyvips must do for the same
output; None means no floor (gravity=face has no pyvips equivalent), and such a scenario is
compared with another one by name (`reference`) instead. A scenario with `chain` runs an
Images SDK chain (bench.chains) remotely against the server, and the same chain embedded in
this process as its floor.
"""

from __future__ import annotations

from dataclasses import dataclass

# Source sets prepared in the temporary origin folder (see bench.sources).
PHOTOS = "photos"  # the test photos, small and large, JPEG and PNG
TWELVE_MP = "12mp"  # one 4240×2832 JPEG made from a real photo

CONCURRENCY: tuple[int, ...] = (4, 16)


@dataclass(frozen=True)
class Floor:
    """Bare pyvips for one scenario: thumbnail_buffer with these arguments, then encode."""

    width: int
    height: int | None = None  # None: bounded by the width only
    crop: str | None = None  # "centre" for fit=cover, "attention" for gravity=auto
    format: str | None = None  # None: the source's format, as the server chooses


@dataclass(frozen=True)
class Scenario:
    name: str
    options: str  # the `<options>` of /cdn-cgi/image/<options>/<source>
    sources: str  # PHOTOS or TWELVE_MP
    requests: int  # per concurrency level in a full run, rounded up to whole passes
    floor: Floor | None
    target_ratio: float | None = None  # minimum server/floor throughput
    memory_target_mib: float | None = None  # maximum whole-service peak RSS
    reference: str | None = None  # a scenario to compare p50 latency with, same concurrency
    reference_target: float | None = None  # maximum p50 / reference p50
    # Every request gets a distinct original (same pixels, other bytes), so that caches keyed
    # by content hash miss: "uncached" measurements.
    unique: bool = False
    # A server of its own, started for this scenario: its peak RSS is then its own, not what
    # the scenarios before it left in the heap.
    fresh_server: bool = False
    # An Images SDK chain by name (bench.chains.CHAINS): remote calls measured against the
    # same chain embedded; `options` is then only a label.
    chain: str | None = None
    slowdown_target: float | None = None  # maximum remote/embedded time per image
    concurrency: tuple[int, ...] | None = None  # levels for this scenario (default: all)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "jpeg-scale-down",
        "fit=scale-down,width=400,height=300,format=jpeg",
        PHOTOS,
        150,
        Floor(400, 300, format="jpeg"),
        target_ratio=0.85,
    ),
    Scenario("cover", "fit=cover,width=300,height=300", PHOTOS, 150, Floor(300, 300, "centre")),
    Scenario("webp", "width=400,format=webp", PHOTOS, 90, Floor(400, format="webp")),
    Scenario("avif", "width=400,format=avif", PHOTOS, 45, Floor(400, format="avif")),
    Scenario(
        "12mp-scale-down",
        "fit=scale-down,width=500,height=500",
        TWELVE_MP,
        80,
        Floor(500, 500),
        target_ratio=0.85,
        memory_target_mib=250,
        fresh_server=True,
    ),
    # gravity=face against gravity=auto on the same 12 MP photo: uncached (every request a
    # new original, so a detection each) and cached (boxes found once, then reused).
    Scenario(
        "12mp-auto",
        "fit=cover,width=500,height=500,gravity=auto",
        TWELVE_MP,
        40,
        Floor(500, 500, "attention"),
    ),
    Scenario(
        "12mp-face",
        "fit=cover,width=500,height=500,gravity=face",
        TWELVE_MP,
        24,
        None,
        reference="12mp-auto",
        reference_target=1.8,
        unique=True,
    ),
    Scenario(
        "12mp-face-cached",
        "fit=cover,width=500,height=500,gravity=face",
        TWELVE_MP,
        40,
        None,
        reference="12mp-auto",
        reference_target=1.1,
    ),
    # The watermark upload example's chain on the 12 MP photo (no resize: a 12 MP AVIF), over
    # POST /transform against embedded; seconds of CPU per image, so concurrency 4 only.
    Scenario(
        "12mp-watermark-sdk",
        "sdk: draw(watermark, bottom=10, right=10, opacity=0.75), output(avif)",
        TWELVE_MP,
        12,
        None,
        chain="watermark",
        slowdown_target=1.15,
        concurrency=(4,),
    ),
)


def select(names: list[str]) -> list[Scenario]:
    """The named scenarios in declaration order (all for none), plus those they refer to."""
    if not names:
        return list(SCENARIOS)
    by_name = {scenario.name: scenario for scenario in SCENARIOS}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(by_name)}")
    wanted = set(names)
    for name in names:
        reference = by_name[name].reference
        if reference is not None:
            wanted.add(reference)
    return [scenario for scenario in SCENARIOS if scenario.name in wanted]
