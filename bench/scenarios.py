"""What the benchmark measures: one declaration per scenario.

A new scenario is one line in SCENARIOS. `floor` says what bare pyvips must do for the same
output; None means no floor (gravity=face has no pyvips equivalent), and such a scenario is
compared with another one by name (`reference`) instead. A scenario with `chain` runs an
Images SDK chain (bench.chains) remotely against the server, and the same chain embedded in
this process as its floor. A scenario with `upload` sends its sources to the hosted images
API (POST /images/v1); one with `variant` uploads them once and measures their delivery as
that named variant (GET /images/<id>/<variant>), against the same transformation through
/cdn-cgi/image/ on the same files (its `reference`).
"""

from __future__ import annotations

from dataclasses import dataclass

# Source sets prepared in the temporary origin folder (see bench.sources).
PHOTOS = "photos"  # the test photos, small and large, JPEG and PNG
TWELVE_MP = "12mp"  # one 4240×2832 JPEG made from a real photo
ONE_MB = "1mb"  # one 3000×2000 JPEG of about 1 MB made from the same photo: a typical upload

CONCURRENCY: tuple[int, ...] = (4, 16)


@dataclass(frozen=True)
class Floor:
    """Bare pyvips for one scenario: thumbnail_buffer with these arguments, then encode."""

    width: int
    height: int | None = None  # None: bounded by the width only
    crop: str | None = None  # "centre" for fit=cover, "attention" for gravity=auto
    format: str | None = None  # None: the source's format, as the server chooses


@dataclass(frozen=True)
class HostedVariant:
    """A named variant of hosted images, created with POST /images/v1/variants."""

    name: str
    fit: str
    width: int
    height: int

    @property
    def body(self) -> dict[str, object]:
        """The variant as the API takes it; its metadata is left to the default, `none`."""
        options = {"fit": self.fit, "width": self.width, "height": self.height}
        return {"id": self.name, "options": options}

    @property
    def options(self) -> str:
        """The same transformation as /cdn-cgi/image/ options (whose metadata default is not
        `none`); the bench checks it against what the server makes of the variant."""
        return f"fit={self.fit},width={self.width},height={self.height},metadata=none"


BENCH_VARIANT = HostedVariant("bench", "cover", 300, 300)


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
    reference_throughput_target: float | None = None  # minimum req/s / reference req/s
    # Every request gets a distinct original (same pixels, other bytes), so that caches keyed
    # by content hash miss: "uncached" measurements.
    unique: bool = False
    # With unique: warm up on every copy, so that each request is a transformation of its own
    # (never coalesced with an identical one in flight) of an original already seen (its
    # content hash, and for faces its boxes, known): the work itself, against the floor.
    warm_unique: bool = False
    # A server of its own, started for this scenario: its peak RSS is then its own, not what
    # the scenarios before it left in the heap.
    fresh_server: bool = False
    # Server settings of its own (a server is started for it): e.g. the result cache, which
    # is off for every other scenario so that they measure transformations, not cache hits.
    server_env: tuple[tuple[str, str], ...] = ()
    # An Images SDK chain by name (bench.chains.CHAINS): remote calls measured against the
    # same chain embedded; `options` is then only a label.
    chain: str | None = None
    slowdown_target: float | None = None  # maximum remote/embedded time per image
    concurrency: tuple[int, ...] | None = None  # levels for this scenario (default: all)
    # Hosted images: POST /images/v1 uploads of the sources (`options` is then only a label)…
    upload: bool = False
    # …or delivery of this variant of the sources, uploaded once (`options` is then the same
    # transformation as /cdn-cgi/image/ options, checked against the server's).
    variant: HostedVariant | None = None


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "jpeg-scale-down",
        "fit=scale-down,width=400,height=300,format=jpeg",
        PHOTOS,
        150,
        Floor(400, 300, format="jpeg"),
        target_ratio=0.85,
        unique=True,
        warm_unique=True,
    ),
    Scenario(
        "cover",
        "fit=cover,width=300,height=300",
        PHOTOS,
        150,
        Floor(300, 300, "centre"),
        unique=True,
        warm_unique=True,
    ),
    Scenario(
        "webp",
        "width=400,format=webp",
        PHOTOS,
        90,
        Floor(400, format="webp"),
        unique=True,
        warm_unique=True,
    ),
    Scenario(
        "avif",
        "width=400,format=avif",
        PHOTOS,
        45,
        Floor(400, format="avif"),
        unique=True,
        warm_unique=True,
    ),
    Scenario(
        "12mp-scale-down",
        "fit=scale-down,width=500,height=500",
        TWELVE_MP,
        80,
        Floor(500, 500),
        target_ratio=0.85,
        memory_target_mib=250,
        fresh_server=True,
        unique=True,
        warm_unique=True,
    ),
    # gravity=face against gravity=auto on the same 12 MP photo: uncached (every request a
    # new original, so a detection each) and cached (boxes found in the warm-up, then reused).
    Scenario(
        "12mp-auto",
        "fit=cover,width=500,height=500,gravity=auto",
        TWELVE_MP,
        40,
        Floor(500, 500, "attention"),
        unique=True,
        warm_unique=True,
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
        unique=True,
        warm_unique=True,
    ),
    # The result cache on the 12 MP photo: a miss (every request a new original, so a
    # transformation each) against a hit (the same URL again: a file read).
    Scenario(
        "12mp-cache-miss",
        "fit=scale-down,width=600,height=600",
        TWELVE_MP,
        40,
        Floor(600, 600),
        unique=True,
        server_env=(("FOCAL_RESULT_CACHE_BYTES", str(1 << 30)),),
    ),
    Scenario(
        "12mp-cache-hit",
        "fit=scale-down,width=600,height=600",
        TWELVE_MP,
        400,
        None,
        reference="12mp-cache-miss",
        reference_throughput_target=10.0,
        server_env=(("FOCAL_RESULT_CACHE_BYTES", str(1 << 30)),),
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
    # Hosted images: uploads of 1 MB JPEGs (every one other bytes), then a named variant of an
    # uploaded image against the same transformation of the same file in the origin folder:
    # the catalog and blob store must cost no more than 10 % of the throughput.
    Scenario(
        "hosted-upload",
        "POST /images/v1 multipart file, ~1 MB JPEG",
        ONE_MB,
        360,
        None,
        unique=True,
        concurrency=(8,),
        upload=True,
    ),
    Scenario(
        "hosted-variant-reference",
        BENCH_VARIANT.options,
        ONE_MB,
        240,
        Floor(300, 300, "centre"),
        unique=True,
        warm_unique=True,
    ),
    Scenario(
        "hosted-variant",
        BENCH_VARIANT.options,
        ONE_MB,
        240,
        None,
        reference="hosted-variant-reference",
        reference_throughput_target=0.9,
        variant=BENCH_VARIANT,
        unique=True,
        warm_unique=True,
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
